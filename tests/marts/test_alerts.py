"""Alerts: a burst found by the trend detector and a sentiment dip each raise one alert that
says why, the cooldown makes one event one alert, and the sensor sends each alert once."""

import json
import threading
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import numpy as np
import pandas as pd
import psycopg
import pytest

from assets.marts.automation import send_pending_alerts
from kedah_analytics.marts.alert_rules import AlertConfig, burst_candidates, dip_candidates
from kedah_analytics.marts.alerts import AlertInputs, build_alerts
from kedah_analytics.marts.periods import kedah_today
from kedah_analytics.marts.sent_alerts import PendingAlert, mark_notified, pending_alerts
from kedah_analytics.warehouse import PartitionFilter, replace_partitions
from resources import PostgresWarehouse

START = date(2026, 10, 1)
BURST_DAY = date(2026, 11, 5)
PLACES = pd.DataFrame(
    {
        "place_id": ["pantai_cenang", "kuah"],
        "name": ["Pantai Cenang", "Kuah"],
        "city": ["Langkawi", "Langkawi"],
        "category": ["beach", "town"],
        "aliases_en": [["Cenang Beach", "Pantai Cenang"], ["Kuah Jetty"]],
        "aliases_ms": [["Pantai Chenang"], ["Jeti Kuah"]],
    }
)


def hourly(days: int = 40, burst_days: tuple[date, ...] = (BURST_DAY,), seed: int = 7) -> pd.DataFrame:
    """term_hourly_counts rows: steady Poisson chatter, and 25 extra posts an hour from 10:00 to
    13:00 on ``burst_days`` for the place and for '#cenangfest'."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range(pd.Timestamp(START, tz="Asia/Kuala_Lumpur"), periods=days * 24, freq="h")
    rows = []
    for term, term_type in (("pantai_cenang", "place"), ("#cenangfest", "hashtag"), ("kuah", "place")):
        counts = rng.poisson(1.0, size=len(hours))
        for hour, count in zip(hours, counts, strict=True):
            if hour.date() in burst_days and 10 <= hour.hour < 13 and term != "kuah":
                count += 25
            if count:
                for platform, share in (("twitter", 0.6), ("instagram", 0.4)):
                    n = int(round(count * share))
                    if n:
                        rows.append({"date": hour.date(), "hour": hour, "platform": platform, "term": term,
                                     "term_type": term_type, "posts": n, "engagement": 3 * n})  # fmt: skip
    return pd.DataFrame(rows)


def place_metrics(days: int = 40, dip_day: date | None = None, provider: str = "x_api_v2") -> pd.DataFrame:
    rows = []
    for i in range(days):
        day = START + timedelta(days=i)
        low = day == dip_day
        pos, neg = (1, 9) if low else (6, 2)
        mean = -0.6 if low else 0.35
        rows.append({"date": day, "place_id": "kuah", "place_name": "Kuah", "city": "Langkawi", "platform": "twitter",
                     "provider": provider, "posts": 10, "spam_posts": 0, "likes": 10, "comments": 0, "shares": 0,
                     "views": 0, "positive": pos, "neutral": 10 - pos - neg, "negative": neg, "sentiment_mean": mean,
                     "engagement": 10})  # fmt: skip
        rows.append({**rows[-1], "platform": "instagram", "provider": provider, "posts": 1, "positive": 1,
                     "neutral": 0, "negative": 0, "sentiment_mean": 0.5})  # fmt: skip
    return pd.DataFrame(rows)


KINDS = {(START + timedelta(days=i), p): "real" for i in range(60) for p in ("twitter", "instagram")}


def test_a_burst_is_found_on_its_day_with_its_rise_against_the_expected_count():
    found = burst_candidates(hourly(), [BURST_DAY], KINDS, AlertConfig())
    bursting = found.set_index("subject")
    assert {"place:pantai_cenang", "#cenangfest"} <= set(bursting.index)
    assert "place:kuah" not in bursting.index
    cenang = bursting.loc["place:pantai_cenang"]
    # The detector raises one alert at the burst's onset (then a cooldown), so the window is the
    # onset's hours, not the whole burst.
    assert cenang["observed"] >= 25 and cenang["baseline"] < cenang["observed"] / 5
    assert set(cenang["platforms"]) == {"twitter", "instagram"} and cenang["provider"] == "real"
    # a quiet day raises nothing
    assert burst_candidates(hourly(), [BURST_DAY - timedelta(days=3)], KINDS, AlertConfig()).empty


def test_cooldown_makes_a_burst_over_two_days_one_alert():
    two_days = (BURST_DAY, BURST_DAY + timedelta(days=1))
    counts = hourly(burst_days=two_days)
    first = burst_candidates(counts, [BURST_DAY], KINDS, AlertConfig())
    second = burst_candidates(counts, [BURST_DAY + timedelta(days=1)], KINDS, AlertConfig())
    assert "place:pantai_cenang" in set(first["subject"])
    assert "place:pantai_cenang" not in set(second["subject"])
    without_cooldown = burst_candidates(
        counts, [BURST_DAY + timedelta(days=1)], KINDS, AlertConfig(cooldown_days=0)
    )
    assert "place:pantai_cenang" in set(without_cooldown["subject"])


def test_a_demo_platform_marks_the_burst_as_demo():
    kinds = {**KINDS, (BURST_DAY, "instagram"): "demo"}
    found = burst_candidates(hourly(), [BURST_DAY], kinds, AlertConfig())
    assert set(found["provider"]) == {"demo"}


def test_a_sentiment_dip_well_below_the_place_own_level_is_found_once():
    dip = START + timedelta(days=33)
    metrics = place_metrics(dip_day=dip)
    found = dip_candidates(metrics, [dip], AlertConfig())
    assert found["place_id"].tolist() == ["kuah"]
    row = found.iloc[0]
    assert row["sentiment_now"] < 0 < row["sentiment_baseline"] and row["z"] <= -3 and row["posts"] == 11
    # its level is steady on other days, and the day after a dip is not a second alert
    assert dip_candidates(metrics, [dip - timedelta(days=1), dip + timedelta(days=1)], AlertConfig()).empty
    # too little history: no alert
    assert dip_candidates(metrics[metrics["date"] >= dip - timedelta(days=1)], [dip], AlertConfig()).empty


@pytest.fixture
def alert_conn(warehouse_url):
    with psycopg.connect(warehouse_url, autocommit=True) as conn:
        conn.execute("TRUNCATE kedah.alerts, kedah.alert_notifications")
        yield conn


def _insert_posts(conn: psycopg.Connection, day: date) -> None:
    """Posts behind the alerts: two about Pantai Cenang with #cenangfest, two angry ones about Kuah."""
    posts = [
        (
            "1",
            "Cenang fest tonight, amazing! #cenangfest",
            "pantai_cenang",
            ["#cenangfest"],
            "positive",
            0.8,
            120,
        ),
        ("2", "Crowds at Pantai Cenang #cenangfest", "pantai_cenang", ["#cenangfest"], "neutral", 0.0, 40),
        ("3", "Kuah jetty ferry cancelled again, terrible", "kuah", [], "negative", -0.9, 15),
        ("4", "Kuah jetty so dirty", "kuah", [], "negative", -0.7, 30),
    ]
    created = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
    for post_id, text, place, keywords, label, score, engagement in posts:
        conn.execute(
            """INSERT INTO kedah.raw_posts (platform, post_id, date, created_at, text, author_name, url, provider,
                                            first_seen_at, fetched_at, payload)
               VALUES ('twitter', %s, %s, %s, %s, 'Aisyah', %s, 'x_api_v2', now(), now(), '{}')""",
            (post_id, day, created, text, f"https://x.com/i/{post_id}"),
        )
        conn.execute(
            """INSERT INTO kedah.classified_posts (platform, post_id, date, created_at, provider, language,
                 sentiment_label, sentiment_score, sentiment_confidence, keywords, topics, place_id, city,
                 spam_score, is_spam, engagement, classifier, classifier_version)
               VALUES ('twitter', %s, %s, %s, 'x_api_v2', 'en', %s, %s, 0.9, %s, '{}', %s, 'Langkawi', 0.0, false,
                       %s, 'test', '1')""",
            (post_id, day, created, label, score, keywords, place, engagement),
        )


def test_alerts_say_why_with_the_posts_behind_them_and_are_the_same_on_a_rerun(alert_conn):
    dip = BURST_DAY
    _insert_posts(alert_conn, BURST_DAY)
    metrics = place_metrics(dip_day=dip)
    first = build_alerts(alert_conn, [BURST_DAY], AlertInputs(hourly(), metrics, PLACES))
    again = build_alerts(alert_conn, [BURST_DAY], AlertInputs(hourly(), metrics, PLACES))
    pd.testing.assert_frame_equal(first, again)
    by_subject = first.set_index(["kind", "subject"])
    burst = by_subject.loc[("burst", "place:pantai_cenang")]
    assert burst["subject_name"] == "Pantai Cenang" and burst["city"] == "Langkawi"
    assert [p["post_id"] for p in burst["top_posts"]] == ["1", "2"]
    assert "Pantai Cenang" in burst["message"] and "expected" in burst["message"]
    assert "Cenang fest tonight" in burst["message"] and "https://x.com/i/1" in burst["message"]
    assert burst["sentiment_now"] == pytest.approx(0.4)
    # the hashtag is its own term: it keeps its alert
    assert ("burst", "#cenangfest") in by_subject.index
    dip_alert = by_subject.loc[("sentiment_dip", "place:kuah")]
    assert dip_alert["observed"] < dip_alert["baseline"] and dip_alert["platforms"] == {"twitter": 2}
    assert dip_alert["top_posts"][0]["sentiment"] == "negative"
    assert "dipped" in dip_alert["message"] and "ferry cancelled" in dip_alert["message"]
    assert first["alert_id"].is_unique


def test_a_keyword_that_only_names_a_bursting_place_is_not_a_second_alert(alert_conn):
    counts = hourly()
    echo = counts[counts["term"] == "pantai_cenang"].assign(term="pantai cenang", term_type="keyword")
    found = build_alerts(
        alert_conn, [BURST_DAY], AlertInputs(pd.concat([counts, echo]), place_metrics(), PLACES)
    )
    assert "pantai cenang" not in set(found["subject"]) and "place:pantai_cenang" in set(found["subject"])


class Hook(BaseHTTPRequestHandler):
    statuses: list[int] = []
    received: list[dict] = []

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Hook.received.append(json.loads(body))
        self.send_response(Hook.statuses.pop(0) if Hook.statuses else 200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def hook_url(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Hook.received.clear()
    Hook.statuses.clear()
    url = f"http://127.0.0.1:{server.server_port}/hook"
    monkeypatch.setenv("KEDAH_ALERT_WEBHOOK", url)
    yield url
    server.shutdown()


def _store(conn: psycopg.Connection, day: date, alert_id: str, message: str) -> None:
    rows = pd.DataFrame([{"date": day, "alert_id": alert_id, "kind": "burst", "subject": "#x", "subject_type": "hashtag",
                          "subject_name": "#x", "city": None, "provider": "real", "observed": 9.0, "baseline": 1.0,
                          "change_pct": 800.0, "score": 6.0, "posts": 9, "platforms": {"twitter": 9},
                          "sentiment_now": None, "sentiment_baseline": None, "top_posts": [{"post_id": "1"}],
                          "message": message}])  # fmt: skip
    replace_partitions(conn, "alerts", rows, PartitionFilter(("date",), ((day,),)))


def test_the_sensor_sends_each_alert_once_even_when_its_day_is_rebuilt(alert_conn, hook_url, warehouse_url):
    warehouse = PostgresWarehouse(url=warehouse_url)
    today = kedah_today()
    _store(alert_conn, today, "a1", "Kedah Analytics alert: #x is bursting")
    _store(alert_conn, today - timedelta(days=30), "old", "an alert from a backfill of last month")
    assert send_pending_alerts(warehouse) == {"webhook": 1, "log": 0, "skipped": 1}
    assert [r["text"] for r in Hook.received] == ["Kedah Analytics alert: #x is bursting"]
    _store(alert_conn, today, "a1", "Kedah Analytics alert: #x is bursting (re-run)")  # the asset re-ran
    assert send_pending_alerts(warehouse) == {"webhook": 0, "log": 0, "skipped": 0}
    assert len(Hook.received) == 1


def test_a_failed_post_is_retried_on_the_next_tick(alert_conn, hook_url, warehouse_url):
    warehouse = PostgresWarehouse(url=warehouse_url)
    _store(alert_conn, kedah_today(), "a2", "alert two")
    Hook.statuses[:] = [400]
    with pytest.raises(Exception, match="400"):
        send_pending_alerts(warehouse)
    assert [a.alert_id for a in pending_alerts(alert_conn)] == ["a2"]
    assert send_pending_alerts(warehouse)["webhook"] == 1
    assert mark_notified(alert_conn, PendingAlert("a2", kedah_today(), "alert two"), "webhook") is False


def test_no_alert_against_a_baseline_of_a_few_days():
    """A fresh install's second day is no baseline: an alert needs min_history_days of data."""
    dip = START + timedelta(days=33)
    metrics = place_metrics(dip_day=dip)
    config = AlertConfig()
    enough_posts = metrics[metrics["date"] >= dip - timedelta(days=2)]  # 33 baseline posts, 2 days
    assert dip_candidates(enough_posts, [dip], config).empty
    week = metrics[metrics["date"] >= dip - timedelta(days=config.min_history_days)]
    assert dip_candidates(week, [dip], config)["place_id"].tolist() == ["kuah"]
    counts = hourly()
    three_days = counts[counts["date"] >= BURST_DAY - timedelta(days=3)]  # the detector alone flags it
    assert not burst_candidates(three_days, [BURST_DAY], KINDS, AlertConfig(min_history_days=1)).empty
    assert burst_candidates(three_days, [BURST_DAY], KINDS, config).empty
    week = counts[counts["date"] >= BURST_DAY - timedelta(days=config.min_history_days)]
    assert not burst_candidates(week, [BURST_DAY], KINDS, config).empty
