"""A ranged run judges each day on its own window at a range's speed (``alert_ranges``): the
candidates it finds are the ones each day's window alone gives, value for value."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from kedah_analytics.marts.alert_ranges import candidates_by_day
from kedah_analytics.marts.alert_rules import AlertConfig, burst_candidates, dip_candidates, platform_kinds
from kedah_analytics.marts.alerts import AlertInputs

START = date(2026, 8, 1)
DAYS = 75
TZ = "Asia/Kuala_Lumpur"


def varied_hourly(seed: int = 3) -> pd.DataFrame:
    """Terms of every size and type: steady ones, sparse ones absent on many days, one that starts
    late, bursts of one day and of several (the cooldown), and a first hour that is not midnight."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range(pd.Timestamp(START, tz=TZ) + pd.Timedelta(hours=5), periods=DAYS * 24 - 5, freq="h")
    terms = [("pantai_cenang", "place", 2.0), ("kuah", "place", 0.8), ("food", "topic", 1.5),
             ("#cenangfest", "hashtag", 0.3), ("ferry", "keyword", 0.1), ("durian", "keyword", 0.05),
             ("late", "keyword", 1.0), ("user", "mention", 3.0)]  # fmt: skip
    bursts = {("pantai_cenang", 40), ("pantai_cenang", 41), ("pantai_cenang", 42), ("#cenangfest", 40),
              ("ferry", 50), ("food", 63), ("food", 66), ("durian", 70), ("late", 60), ("kuah", 55)}  # fmt: skip
    rows = []
    for term, term_type, rate in terms:
        counts = rng.poisson(rate * (1 + 0.6 * np.sin(np.arange(len(hours)) * 2 * np.pi / 24)))
        for hour, count in zip(hours, counts, strict=True):
            day = (hour.date() - START).days
            if term == "late" and day < 45:
                continue
            if (term, day) in bursts and 9 <= hour.hour < 9 + 1 + day % 4:
                count += 12 + 3 * (day % 5)
            for platform, share in (("twitter", 0.7), ("instagram", 0.3)):
                n = int(round(count * share))
                if n:
                    rows.append({"date": hour.date(), "hour": hour, "platform": platform, "term": term,
                                 "term_type": term_type, "posts": n, "engagement": n})  # fmt: skip
    return pd.DataFrame(rows)


def varied_metrics() -> pd.DataFrame:
    rows = []
    for i in range(DAYS):
        day = START + timedelta(days=i)
        low = i in (45, 46, 60)
        for place, platform, provider, posts in (("kuah", "twitter", "x_api_v2", 12), ("kuah", "instagram", "demo", 4),
                                                 ("pantai_cenang", "twitter", "x_api_v2", 9)):  # fmt: skip
            pos, neg = (0, posts) if low and place == "kuah" else (posts // 2, posts // 6)
            rows.append({"date": day, "place_id": place, "platform": platform, "provider": provider, "posts": posts,
                         "positive": pos, "neutral": posts - pos - neg, "negative": neg,
                         "sentiment_mean": -0.8 if low and place == "kuah" else 0.3})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def inputs() -> AlertInputs:
    return AlertInputs(varied_hourly(), varied_metrics(), pd.DataFrame())


@pytest.fixture(scope="module")
def each_day_alone(inputs: AlertInputs) -> dict[date, tuple[pd.DataFrame, pd.DataFrame]]:
    """Each day's candidates from its own window alone (what a run of that day gives): the same
    whichever range the day is in, so worked out once for both ranges below."""
    config = AlertConfig()
    found = {}
    for day in [START + timedelta(days=i) for i in range(DAYS)]:
        window = inputs.window(day, config.history_days)
        bursts = burst_candidates(window.hourly_counts, [day], platform_kinds(window.place_metrics), config)
        found[day] = (bursts, dip_candidates(window.place_metrics, [day], config))
    return found


@pytest.mark.parametrize("first", [0, 30])
def test_a_range_finds_what_each_day_window_alone_finds(first, inputs, each_day_alone):
    config = AlertConfig()
    days = [START + timedelta(days=i) for i in range(first, DAYS)]
    ranged = candidates_by_day(inputs.hourly_counts, inputs.place_metrics, days, config)
    assert list(ranged) == days
    found = 0
    for day in days:
        bursts, dips = each_day_alone[day]
        got_bursts, got_dips = ranged[day]
        assert got_bursts.to_dict("records") == bursts.to_dict("records"), day
        assert got_dips.to_dict("records") == dips.to_dict("records"), day
        found += len(bursts) + len(dips)
    # bursts of every kind, and the cooldown held some back: a comparison of empty frames proves nothing
    assert found >= 8
