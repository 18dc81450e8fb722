"""The real sources wired into Dagster, against a real PostgreSQL.

Real where credentials are set and demo (or off) elsewhere; a failing source fails only its own
partitions and leaves stored rows alone; no credential value reaches the event log, metadata or
error text; account metrics survive one account failing; the sources' state lives in Postgres.
Only the network is replaced, through the client libraries' own hooks (a requests transport for
tweepy, the Graph API client and pytrends).
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import pandas as pd
import psycopg
import pytest
from googleapiclient.http import HttpMockSequence
from source_fakes import (
    NOW,
    FakeClock,
    FakeSleep,
    FixtureAdapter,
    Reply,
    isolate_sources,
    serve_pytrends,
)

from assets.insights.automation import account_metrics_requests, daily_account_metrics
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.definitions import defs
from kedah_analytics.domain import SearchInterestRecord
from kedah_analytics.sources.common.base import QuotaExhausted
from kedah_analytics.sources.common.budget import InMemoryDailyCounter
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.google_trends.client import InMemoryTrendsCache
from kedah_analytics.sources.google_trends.interest import trends_windows
from kedah_analytics.sources.meta.instagram import InMemoryHashtagLedger
from kedah_analytics.sources.youtube.videos import YouTubeSource
from kedah_analytics.warehouse import read_table, state
from kedah_analytics.warehouse.state import (
    PgHashtagLedger,
    PgSearchCallBudget,
    PgTrendsCache,
    load_cursors,
    save_cursors,
)
from resources import (
    AccountMetricSources,
    PostgresIOManager,
    PostgresWarehouse,
    PostSources,
    SearchInterestSource,
    SentimentResource,
)

X_TOKEN = "fake-x-bearer-WiringBearerSecret%2Fzz99qq"
META_TOKEN = "EAAGWiringMetaSecretToken0123456789abc"
GOOD, MISSING = "17841400008460056", "17841499999999999"
DAY = "2026-11-20"  # the Kedah day of the recorded tweets; NOW is 14:00 on it
SEARCH = "/2/tweets/search/recent"
PAGE2_TOKEN = "b26v89c19zqg8o3frr3ld2exh2cmw7smoeutj7ibg2dq5"
NEWEST_TWEET = "2123627832407089728"
GROUP = ["Langkawi", "Alor Setar", "Sungai Petani", "Kulim", "Jitra"]
TRACKING = f"""
place_terms: [Langkawi, Alor Setar]
hashtags: ["#VisitKedah"]
twitter:
  max_pages_per_query: 2  # the recorded search has two pages (8 polls x 1 query x 2 x 100 fits the budget)
instagram:
  hashtags: [langkawi]
  account_ids: ["{MISSING}", "{GOOD}"]
google_trends:
  keyword_groups: [[{", ".join(GROUP)}]]
  timeframe_days: 7
  min_interval_seconds: 0
"""


class Network:
    """The fake network the test resources' clients are built with."""

    def __init__(self) -> None:
        self.adapter = FixtureAdapter()
        self.clock = FakeClock()
        self.sleep = FakeSleep(self.clock)

    def hooks(self) -> dict:
        return {"session_factory": self.adapter.session, "clock": self.clock, "sleep": self.sleep}


NETWORK = Network()


class FixturePostSources(PostSources):
    def client_hooks(self) -> dict:
        return NETWORK.hooks()


class FixtureAccountMetricSources(AccountMetricSources):
    def client_hooks(self) -> dict:
        return NETWORK.hooks()


class FixtureSearchInterestSource(SearchInterestSource):
    def client_hooks(self) -> dict:
        return NETWORK.hooks()


@pytest.fixture(autouse=True)
def network(monkeypatch, tmp_path) -> Network:
    """No real network; no credential from the developer's shell; a small tracking file."""
    global NETWORK
    isolate_sources(monkeypatch, tmp_path, TRACKING)
    NETWORK = Network()
    return NETWORK


@pytest.fixture
def url(warehouse_url: str) -> str:
    return warehouse_url  # every table empty, the sources' state (cursors, ledgers, caches) included


@pytest.fixture
def instance():
    # The client libraries' own DEBUG logs go to the event log too: they must arrive redacted.
    overrides = {
        "python_logs": {"managed_python_loggers": ["tweepy", "urllib3"], "python_log_level": "DEBUG"}
    }
    with dg.instance_for_test(overrides=overrides) as inst:
        yield inst


def bound(url: str) -> dg.Definitions:
    return dg.Definitions(
        assets=list(defs.assets),
        asset_checks=list(defs.asset_checks),
        jobs=list(defs.jobs),
        resources={
            "io_manager": PostgresIOManager(url=url),
            "warehouse": PostgresWarehouse(url=url),
            "post_sources": FixturePostSources(url=url),
            "account_metric_sources": FixtureAccountMetricSources(),
            "search_interest_source": FixtureSearchInterestSource(url=url),
            "sentiment": SentimentResource(),
        },
    )


def run(url, instance, job, partition=None, *, tags=None, success=True) -> dg.ExecuteInProcessResult:
    result = (
        bound(url)
        .resolve_job_def(job)
        .execute_in_process(instance=instance, partition_key=partition, tags=tags, raise_on_error=False)
    )
    assert result.success is success, failure_text(result)
    return result


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    (event, *_) = [e for e in result.get_asset_materialization_events() if e.asset_key.path == [asset]]
    return {k: v.value for k, v in event.materialization.metadata.items()}


def failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    return "\n".join(
        e.step_failure_data.user_failure_data.description or ""
        for e in failures
        if e.step_failure_data.user_failure_data
    )


def table(url: str, name: str, **where: str) -> pd.DataFrame:
    with psycopg.connect(url) as conn:
        df = read_table(conn, name)
    for column, value in where.items():
        df = df[df[column].astype(str) == value]
    keys = [c for c in ("date", "platform", "post_id", "account_id", "metric", "keyword") if c in df.columns]
    return df.sort_values(keys).reset_index(drop=True)


def serve_tweets(adapter: FixtureAdapter) -> None:
    adapter.add(SEARCH, Reply.json("twitter/search_recent_page1.json"), when=lambda p: "next_token" not in p)
    adapter.add(
        SEARCH,
        Reply.json("twitter/search_recent_page2.json"),
        when=lambda p: p.get("next_token") == PAGE2_TOKEN,
    )


def insights(adapter: FixtureAdapter, account: str, reply: Reply) -> None:
    # Each Meta insights fetch first asks debug_token when the token expires (one extra call).
    adapter.add("/v25.0/debug_token", Reply.json("instagram/debug_token_long_lived.json"))
    adapter.add(f"/v25.0/{account}/insights", reply)


def store_metric(url: str, day: str, platform: str, account: str, metric: str, value: float) -> None:
    with psycopg.connect(url) as conn:
        conn.execute(
            """INSERT INTO kedah.account_daily_metrics (date, platform, account_id, metric, value, provider,
                   fetched_at) VALUES (%s, %s, %s, %s, %s, 'instagram_graph_insights', now())""",
            (date.fromisoformat(day), platform, account, metric, value),
        )


# --- (c) real where configured, demo elsewhere -------------------------------------------------


def test_credentials_for_one_platform_make_it_real_and_leave_the_others_on_demo(url, instance, monkeypatch):
    monkeypatch.setenv("KEDAH_X_BEARER_TOKEN", X_TOKEN)
    run(url, instance, "refresh_places")
    serve_tweets(NETWORK.adapter)

    twitter = run(url, instance, "collect_posts", f"{DAY}|twitter")
    instagram = run(url, instance, "collect_posts", f"{DAY}|instagram")

    raw = table(url, "raw_posts")
    assert set(raw.loc[raw["platform"] == "twitter", "provider"]) == {"x_api_v2"}
    assert set(raw.loc[raw["platform"] == "instagram", "provider"]) == {"demo"}
    assert len(raw[raw["platform"] == "twitter"]) == 4  # the recorded tweets of that Kedah day
    real, demo = metadata(twitter, "raw_posts"), metadata(instagram, "raw_posts")
    assert (real["providers"], real["demo_data"]) == ("twitter: x_api_v2", False)
    assert (demo["providers"], demo["demo_data"]) == ("instagram: demo", True)
    assert real["run_api_calls"] == 2 and real["run_telemetry"]["twitter"]["pages_read"] == 2
    configuration = real["source_configuration"]
    assert configuration["twitter"] == "real: x_api_v2"
    assert configuration["instagram"].startswith("demo:") and "KEDAH_IG_USER_ID" in configuration["instagram"]
    assert (
        configuration["youtube"].startswith("demo:") and "KEDAH_YOUTUBE_API_KEY" in configuration["youtube"]
    )

    # The X cursor was stored with the posts; the next poll asks only for newer tweets.
    (cursor,) = load_cursors(url, "x_api_v2").values()
    assert cursor == NEWEST_TWEET
    NETWORK.adapter.add(SEARCH, Reply.json("twitter/search_recent_empty.json"))
    again = run(url, instance, "collect_posts", f"{DAY}|twitter")
    assert NETWORK.adapter.calls(SEARCH)[-1].params["since_id"] == NEWEST_TWEET
    assert metadata(again, "raw_posts")["run_telemetry"]["twitter"]["cursors_used"] == 1
    assert len(table(url, "raw_posts", platform="twitter")) == 4  # nothing lost, nothing doubled


def test_demo_mode_forces_demo_even_with_credentials(url, instance, monkeypatch):
    monkeypatch.setenv("KEDAH_X_BEARER_TOKEN", X_TOKEN)
    sources = FixturePostSources(mode="demo", url=url)
    assert sources.source_for("twitter").provider == "demo"
    assert sources.describe()["twitter"] == "demo: KEDAH_SOURCE_MODE=demo"
    assert FixturePostSources(url=url).source_for("twitter").provider == "x_api_v2"
    assert NETWORK.adapter.seen == []


# --- (a) a failing source fails its own partition only ------------------------------------------


def test_a_failing_real_source_fails_only_its_own_partition_and_keeps_its_rows(url, instance, monkeypatch):
    monkeypatch.setenv("KEDAH_X_BEARER_TOKEN", X_TOKEN)
    run(url, instance, "refresh_places")
    serve_tweets(NETWORK.adapter)
    run(url, instance, "collect_posts", f"{DAY}|twitter")
    raw_before = table(url, "raw_posts", platform="twitter")
    classified_before = table(url, "classified_posts", platform="twitter")
    cursors_before = load_cursors(url, "x_api_v2")

    NETWORK.adapter.add(SEARCH, Reply.json("twitter/error_401.json", status=401))
    failed = run(url, instance, "collect_posts", f"{DAY}|twitter", success=False)
    other = run(url, instance, "collect_posts", f"{DAY}|youtube")

    message = failure_text(failed)
    assert f"twitter posts for {DAY} from x_api_v2 failed: CredentialsError" in message
    assert "KEDAH_X_BEARER_TOKEN" in message and "401 Unauthorized" in message
    assert "Retrying will not help" in message and "rows stored before are untouched" in message
    assert len(NETWORK.adapter.calls(SEARCH)) == 3  # a rejected token is not retried
    assert failed.get_asset_materialization_events() == []  # classified_posts did not run either
    pd.testing.assert_frame_equal(table(url, "raw_posts", platform="twitter"), raw_before)
    pd.testing.assert_frame_equal(table(url, "classified_posts", platform="twitter"), classified_before)
    assert load_cursors(url, "x_api_v2") == cursors_before
    assert metadata(other, "raw_posts")["providers"] == "youtube: demo"
    assert len(table(url, "raw_posts", platform="youtube")) > 0


# --- (b) no credential value anywhere -----------------------------------------------------------


def test_no_credential_value_reaches_logs_metadata_or_errors(url, instance, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("KEDAH_X_BEARER_TOKEN", X_TOKEN)
    monkeypatch.setenv("KEDAH_META_ACCESS_TOKEN", META_TOKEN)
    run(url, instance, "refresh_places")
    serve_tweets(NETWORK.adapter)
    NETWORK.adapter.add(SEARCH, Reply.json("twitter/error_401.json", status=401))
    insights(NETWORK.adapter, MISSING, Reply.json("instagram/error_190_expired.json", status=400))
    insights(NETWORK.adapter, GOOD, Reply.json("instagram/insights_day_account1.json"))

    ok = run(url, instance, "collect_posts", f"{DAY}|twitter")
    failed = run(url, instance, "collect_posts", f"{DAY}|twitter", success=False)
    partial = run(url, instance, "collect_account_metrics", "2026-11-19|instagram")

    # Every event of the three runs (messages, metadata, errors with their stack traces), serialized.
    event_log = "\n".join(
        dg.serialize_value(entry) for r in (ok, failed, partial) for entry in instance.all_logs(r.run_id)
    )
    everything = "\n".join([event_log, caplog.text, failure_text(failed)])
    assert X_TOKEN not in everything and META_TOKEN not in everything
    assert X_TOKEN.split("%")[0][-20:] not in everything  # nor a recognisable part of it
    # What is there instead: the variable names, and tweepy's own DEBUG request logs, redacted.
    assert "KEDAH_X_BEARER_TOKEN" in event_log and "KEDAH_META_ACCESS_TOKEN" in event_log
    assert "Making API request" in event_log and "Bearer ***" in event_log
    failed_accounts = metadata(partial, "account_daily_metrics")["accounts_failed"]
    assert failed_accounts[0].startswith(f"instagram/{MISSING}: CredentialsError")


# --- (d) account metrics ------------------------------------------------------------------------


def test_account_metrics_replace_per_account_and_one_failing_account_does_not_stop_the_others(
    url, instance, monkeypatch
):
    monkeypatch.setenv("KEDAH_META_ACCESS_TOKEN", META_TOKEN)
    key = "2026-11-19|instagram"
    store_metric(url, "2026-11-19", "instagram", MISSING, "reach", 5.0)  # stored by an earlier run
    for _ in range(2):
        insights(NETWORK.adapter, MISSING, Reply.json("instagram/error_100_no_object.json", status=400))
        insights(NETWORK.adapter, GOOD, Reply.json("instagram/insights_day_account1.json"))

    first = run(url, instance, "collect_account_metrics", key)
    after_first = table(url, "account_daily_metrics")
    second = run(url, instance, "collect_account_metrics", key)
    after_second = table(url, "account_daily_metrics")

    good = after_second[after_second["account_id"] == GOOD]
    assert len(good) == 11 and good["provider"].unique().tolist() == ["instagram_graph_insights"]
    assert good.set_index("metric").loc["reach", "value"] == 1834
    assert pd.isna(good.set_index("metric").loc["profile_links_taps", "value"])  # no value given: NULL, not 0
    assert good["metadata"].iloc[0]["day_basis"].startswith("Asia/Kuala_Lumpur")
    kept = after_second[after_second["account_id"] == MISSING]
    assert kept[["metric", "value"]].values.tolist() == [["reach", 5.0]]  # the failed account's row is kept
    volatile = ["fetched_at"]
    pd.testing.assert_frame_equal(after_first.drop(columns=volatile), after_second.drop(columns=volatile))

    meta = metadata(second, "account_daily_metrics")
    assert meta["accounts_succeeded"] == [f"instagram/{GOOD}"]
    assert meta["accounts_failed"][0].startswith(f"instagram/{MISSING}: BadRequest")
    assert (meta["rows_written"], meta["run_replaced_rows_deleted"], meta["dagster/partition_row_count"]) == (
        11,
        11,
        12,
    )
    # Two insights calls and the debug_token check.
    assert meta["api_calls"] == 3 and meta["platforms"]["instagram"]["provider"] == "instagram_graph_insights"
    assert metadata(first, "account_daily_metrics")["run_replaced_rows_deleted"] == 0


def test_account_metrics_fail_only_when_every_account_fails_and_say_why_platforms_are_empty(
    url, instance, monkeypatch
):
    monkeypatch.setenv("KEDAH_META_ACCESS_TOKEN", META_TOKEN)
    store_metric(url, "2026-11-19", "instagram", GOOD, "reach", 7.0)
    insights(NETWORK.adapter, MISSING, Reply.json("instagram/error_190_expired.json", status=400))
    insights(NETWORK.adapter, GOOD, Reply.json("instagram/error_190_expired.json", status=400))

    failed = run(url, instance, "collect_account_metrics", "2026-11-19|instagram", success=False)
    message = failure_text(failed)
    assert "every configured instagram account failed (2)" in message
    assert MISSING in message and GOOD in message and "KEDAH_META_ACCESS_TOKEN" in message
    assert table(url, "account_daily_metrics")["value"].tolist() == [7.0]

    # The daily schedule's runs for the other platforms: X has none; the unconfigured ones get the
    # demo account's rows, and each says why it is not real.
    scheduled = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 02:00 on 21 November in Kedah
    statuses = {}
    for request in account_metrics_requests(scheduled, platforms=("twitter", "facebook", "youtube")):
        result = run(url, instance, "collect_account_metrics", tags=request.tags)
        events = [e for e in result.get_asset_materialization_events()]
        assert len(events) == 3  # one per day of the range
        statuses[request.tags["kedah/platform"]] = metadata(result, "account_daily_metrics")["status"]
    assert "X has no account metrics" in statuses["twitter"]
    assert (
        statuses["facebook"].startswith("facebook: demo (not configured")
        and "facebook.page_ids" in statuses["facebook"]
    )
    assert "not configured" in statuses["youtube"] and "KEDAH_YOUTUBE_OAUTH_TOKEN_FILE" in statuses["youtube"]
    stored = table(url, "account_daily_metrics")
    assert stored[stored["provider"] != "demo"]["value"].tolist() == [7.0]
    demo = stored[stored["provider"] == "demo"]
    assert (
        set(demo["platform"]) == {"facebook", "youtube"} and demo["account_id"].str.startswith("demo-").all()
    )


def test_account_metrics_schedule_refetches_the_last_three_days_for_every_platform():
    scheduled = datetime(2026, 11, 20, 18, 0, tzinfo=UTC)  # 02:00 on 21 November in Kedah
    requests = account_metrics_requests(scheduled)
    tags = {r.tags["kedah/platform"]: r.tags for r in requests}
    assert sorted(tags) == ["facebook", "instagram", "twitter", "youtube"]
    assert tags["instagram"]["dagster/asset_partition_range_start"] == "2026-11-18|instagram"
    assert tags["instagram"]["dagster/asset_partition_range_end"] == "2026-11-20|instagram"
    assert len({r.run_key for r in requests}) == 4
    context = dg.build_schedule_context(scheduled_execution_time=scheduled)
    assert len(daily_account_metrics(context)) == 4
    assert (daily_account_metrics.cron_schedule, daily_account_metrics.execution_timezone) == (
        "0 2 * * *",
        "Asia/Kuala_Lumpur",
    )
    assert daily_account_metrics.job_name == "collect_account_metrics"


# --- search interest ----------------------------------------------------------------------------


def test_search_interest_is_demo_unless_enabled(url, instance):
    result = run(url, instance, "collect_search_interest", "2026-11-19")
    meta = metadata(result, "search_interest")
    assert meta["status"].startswith("demo (disabled") and "KEDAH_GOOGLE_TRENDS=1" in meta["status"]
    stored = table(url, "search_interest")
    assert meta["rows_written"] == len(stored) > 0 and set(stored["provider"]) == {"demo"}
    assert stored["interest"].between(0, 100).all()
    assert NETWORK.adapter.seen == []  # Google is never called unless switched on


def test_search_interest_from_google_trends_with_its_cache_in_postgres(url, instance, monkeypatch):
    monkeypatch.setenv("KEDAH_GOOGLE_TRENDS", "1")
    serve_pytrends(monkeypatch, NETWORK.adapter)
    NETWORK.adapter.add(
        "/trends/explore/",
        Reply.text("google_trends/explore_page.html", "text/html; charset=UTF-8", cookies={"NID": "525=abc"}),
    )
    json_type = "application/json; charset=utf-8"
    NETWORK.adapter.add(
        "/trends/api/explore", Reply.text("google_trends/explore_kedah_group1.txt", json_type)
    )
    NETWORK.adapter.add(
        "/trends/api/widgetdata/multiline", Reply.text("google_trends/multiline_kedah_group1.txt", json_type)
    )

    first = run(url, instance, "collect_search_interest", "2026-11-19")
    rows = table(url, "search_interest")
    assert sorted(rows["keyword"]) == sorted(GROUP) and set(rows["date"].astype(str)) == {"2026-11-19"}
    assert set(rows["geo"]) == {"MY-02"} and set(rows["timeframe"]) == {"2026-11-13 2026-11-19"}
    assert rows["keyword_group"].iloc[0] == GROUP and not rows["is_partial"].any()
    meta = metadata(first, "search_interest")
    assert (meta["rows_written"], meta["api_calls"], meta["cache_hits"]) == (5, 3, 0)
    assert meta["provider"] == "google_trends_pytrends"

    second = run(url, instance, "collect_search_interest", "2026-11-19")  # answered from Postgres
    meta = metadata(second, "search_interest")
    assert (meta["rows_written"], meta["api_calls"], meta["cache_hits"]) == (5, 0, 1)
    assert len(NETWORK.adapter.seen) == 3
    assert len(table(url, "search_interest")) == 5


def test_trends_windows_reach_back_and_split_long_ranges():
    d = date(2026, 11, 20)
    assert trends_windows([d - timedelta(days=2), d - timedelta(days=1), d], 7) == [
        (d - timedelta(days=6), d, [d - timedelta(days=2), d - timedelta(days=1), d])
    ]
    apart = trends_windows([d - timedelta(days=10), d], 7)
    assert [(w[0], w[1]) for w in apart] == [
        (d - timedelta(days=16), d - timedelta(days=10)),
        (d - timedelta(days=6), d),
    ]
    year = [d - timedelta(days=i) for i in range(400)]
    windows = trends_windows(year, 90)
    assert sum(len(w[2]) for w in windows) == 400
    assert all((w[1] - w[0]).days + 1 <= 269 for w in windows)


# --- (e) the Postgres state behaves like the in-memory one ---------------------------------------


@pytest.fixture(params=["in-memory", "postgres"])
def kind(request, url) -> tuple[str, str]:
    return request.param, url


@pytest.mark.parametrize("one_poll", [False, True], ids=["call-by-call", "one-poll"])
def test_hashtag_ledger(kind, one_poll):
    name, url = kind
    stored = InMemoryHashtagLedger() if name == "in-memory" else PgHashtagLedger(url)
    with stored.for_one_poll() if one_poll else nullcontext(stored) as ledger:
        _ask_a_ledger(ledger)
    assert stored.queried_since("a", NOW - timedelta(days=7)) == {"kedah", "langkawi"}  # kept after the poll


def _ask_a_ledger(ledger) -> None:
    week_ago = NOW - timedelta(days=7)
    assert ledger.queried_since("a", week_ago) == set()
    ledger.record_query("a", "langkawi", NOW - timedelta(days=8))
    ledger.record_query("a", "kedah", NOW - timedelta(days=1))
    ledger.record_query("b", "jitra", NOW)
    assert ledger.queried_since("a", week_ago) == {"kedah"}
    ledger.record_query("a", "langkawi", NOW)  # queried again: back inside the window
    assert ledger.queried_since("a", week_ago) == {"kedah", "langkawi"}
    assert ledger.queried_since("b", week_ago) == {"jitra"}
    assert ledger.hashtag_id("langkawi") is None
    ledger.remember_hashtag_id("langkawi", "17843826142012345")
    assert ledger.hashtag_id("langkawi") == "17843826142012345"


def test_a_polls_questions_to_the_postgres_ledger_share_one_connection(url, monkeypatch):
    """A poll asks three or four questions per hashtag; one connection for all of them."""
    opened: list[object] = []
    connect = state.connect
    monkeypatch.setattr(state, "connect", lambda *a, **k: (opened.append(1), connect(*a, **k))[1])
    with PgHashtagLedger(url).for_one_poll() as poll:
        for tag in ("langkawi", "kedah", "jitra"):
            assert tag not in poll.queried_since("acct", NOW - timedelta(days=7))
            assert poll.hashtag_id(tag) is None
            poll.remember_hashtag_id(tag, f"id-{tag}")
            poll.record_query("acct", tag, NOW)
    assert len(opened) == 1
    after = PgHashtagLedger(url)
    assert after.queried_since("acct", NOW - timedelta(days=7)) == {"langkawi", "kedah", "jitra"}
    assert len(opened) == 2 and after.hashtag_id("jitra") == "id-jitra"


def test_search_call_budget(kind):
    name, url = kind
    budget = InMemoryDailyCounter() if name == "in-memory" else PgSearchCallBudget(url)
    day = date(2026, 11, 19)
    assert budget.spent(day) == 0
    budget.spend(day)
    budget.spend(day, 2)
    assert budget.spent(day) == 3 and budget.spent(day + timedelta(days=1)) == 0


def test_trends_cache(kind):
    name, url = kind
    ttl = timedelta(hours=6)
    cache = InMemoryTrendsCache(ttl) if name == "in-memory" else PgTrendsCache(url, ttl)
    key = (tuple(GROUP), "2026-11-14 2026-11-20", "MY-02", -480)
    record = SearchInterestRecord(date(2026, 11, 20), "Kulim", 11, True, "MY-02", key[1], tuple(GROUP))
    assert cache.get(key, NOW) is None
    cache.put(key, [record], NOW)
    assert cache.get(key, NOW + timedelta(hours=1)) == [record]
    assert cache.get(key, NOW + timedelta(hours=7)) is None  # stale
    assert cache.get((tuple(GROUP), "today 3-m", "MY-02", -480), NOW) is None
    empty = (("Jitra",), key[1], "MY-02", -480)
    cache.put(empty, [], NOW)
    assert cache.get(empty, NOW) == []  # "no data" is an answer too


def test_postgres_state_outlives_the_object_that_wrote_it(url):
    PgHashtagLedger(url).record_query("acct", "langkawi", NOW)
    assert PgHashtagLedger(url).queried_since("acct", NOW - timedelta(days=7)) == {"langkawi"}
    # A spent YouTube allowance stops the next process before it calls Google at all.
    pacific_day = date(2026, 11, 19)  # NOW is 22:00 on 19 November in Los Angeles
    PgSearchCallBudget(url).spend(pacific_day, 100)
    clock = FakeClock()
    source = YouTubeSource(
        Secret("AIzaSyWiringYouTubeKey000", "KEDAH_YOUTUBE_API_KEY"),
        TrackingConfig.model_validate({"youtube": {"queries": ["Langkawi"]}}),
        http=HttpMockSequence([]),
        budget=PgSearchCallBudget(url),
        clock=clock,
        sleep=FakeSleep(clock),
    )
    with pytest.raises(QuotaExhausted, match="daily allowance of 100 calls"):
        source.fetch_posts("youtube", [date(2026, 11, 20)])


def test_cursors_only_move_forward(url):
    with psycopg.connect(url) as conn:
        save_cursors(conn, "x_api_v2", {"q1": "200", "q2": "50"})
        save_cursors(conn, "x_api_v2", {"q1": "150", "q2": "60"})  # a slower run finishing late
    assert load_cursors(url, "x_api_v2") == {"q1": "200", "q2": "60"}


def test_demo_account_metrics_never_overwrite_real_ones_and_real_ones_replace_demo(
    url, instance, monkeypatch
):
    monkeypatch.delenv("KEDAH_META_ACCESS_TOKEN", raising=False)
    run(url, instance, "collect_account_metrics", "2026-11-19|instagram")
    assert set(table(url, "account_daily_metrics")["provider"]) == {"demo"}

    # Configured, the real account's answer replaces the demo account's rows of that day.
    monkeypatch.setenv("KEDAH_META_ACCESS_TOKEN", META_TOKEN)
    insights(NETWORK.adapter, GOOD, Reply.json("instagram/insights_day_account1.json"))
    insights(NETWORK.adapter, MISSING, Reply.json("instagram/insights_day_account1.json"))
    run(url, instance, "collect_account_metrics", "2026-11-19|instagram")
    assert "demo" not in set(table(url, "account_daily_metrics")["provider"])

    # Unconfigured again, the demo source refuses to write into the day that holds real rows.
    monkeypatch.delenv("KEDAH_META_ACCESS_TOKEN")
    failed = run(url, instance, "collect_account_metrics", "2026-11-19|instagram", success=False)
    assert "demo rows are never mixed with real ones" in failure_text(failed)
    assert "demo" not in set(table(url, "account_daily_metrics")["provider"])
