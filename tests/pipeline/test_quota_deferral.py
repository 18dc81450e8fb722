"""A spent quota or budget defers, it does not fail (issue 24, item 2).

Real PostgreSQL, real ``execute_in_process`` runs of the real jobs, the real client libraries with
only their transports replaced (googleapiclient's ``http``, a requests adapter for tweepy, the Graph
client and pytrends), and the real schedules evaluated by Dagster: a run that runs out of YouTube's
search allowance, X's daily post-read budget, the Graph API's rate limit or Google Trends' patience
stores what it fetched, keeps the cursors where the stored posts end, succeeds with
``quota_exhausted``/``deferred_until`` and a warning, and the source's ticks are skipped until the
reset, naming it, and poll again after it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import dagster as dg
import psycopg
import pytest
from googleapiclient.http import HttpMockSequence
from source_fakes import (
    FakeClock,
    FakeSleep,
    FixtureAdapter,
    Reply,
    fixture_text,
    isolate_sources,
    serve_pytrends,
)

from assets.ingest.automation import COLLECTION_SCHEDULES
from assets.insights.automation import daily_search_interest
from kedah_analytics.deferrals import active_deferrals
from kedah_analytics.definitions import defs
from kedah_analytics.status import collection_status
from kedah_analytics.warehouse import read_table
from kedah_analytics.warehouse.state import PgPostReadBudget, load_cursors
from resources import (
    AccountMetricSources,
    PostgresIOManager,
    PostgresWarehouse,
    PostSources,
    SearchInterestSource,
    SentimentResource,
)

DAY = "2026-11-20"  # NOW (06:00 UTC) is 14:00 on it in Kedah, 22:00 on the 19th in California
PACIFIC_MIDNIGHT = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
SEARCH = "/2/tweets/search/recent"
PAGE2_TOKEN = "b26v89c19zqg8o3frr3ld2exh2cmw7smoeutj7ibg2dq5"
NEWEST_TWEET = "2123627832407089728"
IG_USER = "17841400008460056"
TRACKING = f"""
place_terms: [Langkawi, Alor Setar]
hashtags: ["#VisitKedah"]
twitter:
  max_pages_per_query: 2
instagram:
  hashtags: [langkawi]
  account_ids: ["{IG_USER}"]
youtube:
  queries: [Langkawi]
  max_pages_per_query: 2
google_trends:
  keyword_groups: [[Langkawi, Alor Setar, Sungai Petani, Kulim, Jitra]]
  timeframe_days: 7
  min_interval_seconds: 60
"""
OK = {"status": "200", "content-type": "application/json; charset=UTF-8"}
QUOTA = {"status": "403", "content-type": "application/json; charset=UTF-8"}
TOO_MANY = Reply(429, b"<html>Too Many Requests</html>", {"Content-Type": "text/html"})


class Network:
    def __init__(self) -> None:
        self.adapter = FixtureAdapter()
        self.clock = FakeClock()
        self.sleep = FakeSleep(self.clock)
        self.youtube: HttpMockSequence | None = None

    def hooks(self) -> dict:
        from kedah_analytics.sources.google_trends.client import Pacer

        pacer = Pacer(60, monotonic=self.clock.monotonic, sleep=self.sleep)  # Trends' pace, on the fake clock
        hooks = {
            "session_factory": self.adapter.session,
            "clock": self.clock,
            "sleep": self.sleep,
            "pacer": pacer,
        }
        return hooks | ({"youtube_http": self.youtube} if self.youtube is not None else {})


NETWORK = Network()


class FakePostSources(PostSources):
    def client_hooks(self) -> dict:
        return NETWORK.hooks()


class FakeSearchInterestSource(SearchInterestSource):
    def client_hooks(self) -> dict:
        return NETWORK.hooks()


@pytest.fixture(autouse=True)
def network(monkeypatch, tmp_path) -> Network:
    global NETWORK
    isolate_sources(monkeypatch, tmp_path, TRACKING)
    NETWORK = Network()
    return NETWORK


@pytest.fixture
def url(warehouse_url: str) -> str:
    return warehouse_url  # every table empty, the sources' state (cursors, ledgers, caches) included


@pytest.fixture
def instance():
    with dg.DagsterInstance.ephemeral() as inst:
        yield inst


def run(url: str, instance: dg.DagsterInstance, job: str, partition: str | None = None, tags=None):
    definitions = dg.Definitions(
        assets=list(defs.assets),
        jobs=list(defs.jobs),
        resources={
            "io_manager": PostgresIOManager(url=url),
            "warehouse": PostgresWarehouse(url=url),
            "post_sources": FakePostSources(url=url),
            "account_metric_sources": AccountMetricSources(),
            "search_interest_source": FakeSearchInterestSource(url=url),
            "sentiment": SentimentResource(),
        },
    )
    return definitions.resolve_job_def(job).execute_in_process(
        instance=instance, partition_key=partition, tags=tags, raise_on_error=False
    )


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> list[dict]:
    return [
        {k: v.value for k, v in e.materialization.metadata.items()}
        for e in result.get_asset_materialization_events()
        if e.asset_key.path == [asset]
    ]


def warnings(instance: dg.DagsterInstance, result: dg.ExecuteInProcessResult) -> list[str]:
    return [e.user_message for e in instance.all_logs(result.run_id) if e.level == "WARNING" or e.level == 30]


def tick(schedule: dg.ScheduleDefinition, url: str, at: datetime) -> dg.ScheduleExecutionData:
    context = dg.build_schedule_context(
        scheduled_execution_time=at, resources={"warehouse": PostgresWarehouse(url=url)}
    )
    return schedule.evaluate_tick(context)


def stored(url: str, platform: str) -> set[str]:
    with psycopg.connect(url) as conn:
        rows = read_table(conn, "raw_posts")
    return set(rows.loc[rows["platform"] == platform, "post_id"])


# --- YouTube: search.list's daily allowance ------------------------------------------------------


def test_youtube_allowance_spent_mid_run_stores_the_videos_found_and_defers_until_pacific_midnight(
    url, instance, monkeypatch
):
    monkeypatch.setenv("KEDAH_YOUTUBE_API_KEY", "test-youtube-key-not-a-credential")
    NETWORK.youtube = HttpMockSequence(
        [
            (OK, fixture_text("youtube/search_page1.json")),
            (QUOTA, fixture_text("youtube/error_quota_exceeded.json")),  # page 2: the allowance is spent
            (OK, fixture_text("youtube/videos.json")),
        ]
    )
    run(url, instance, "refresh_places")
    result = run(url, instance, "collect_posts", tags=range_of("youtube", "2026-11-19", DAY))

    assert result.success
    assert stored(url, "youtube") == {"a1B2c3D4e5F", "Zz9Yy8Xx7Ww"}  # the videos found before it ran out
    (first, second) = metadata(result, "raw_posts")
    for meta in (first, second):
        assert meta["quota_exhausted"] is True
        assert meta["deferred_until"] == PACIFIC_MIDNIGHT.isoformat()
    assert "quotaExceeded" in first["deferrals"]["youtube"]["deferred_reason"]
    (warning,) = [w for w in warnings(instance, result) if "quota exhausted" in w]
    assert "youtube" in warning and PACIFIC_MIDNIGHT.isoformat() in warning and "2 post(s)" in warning
    with psycopg.connect(url) as conn:
        assert set(active_deferrals(conn, NETWORK.clock())) == {"youtube"}
        # What the API's /collection/status and the dashboard's Data status page show.
        shown = {row["platform"]: row["deferred_until"] for row in collection_status(conn, NETWORK.clock())}
    assert shown == {"twitter": None, "instagram": None, "facebook": None, "youtube": PACIFIC_MIDNIGHT}

    schedule = COLLECTION_SCHEDULES["youtube"]
    skipped = tick(schedule, url, datetime(2026, 11, 20, 7, 20, tzinfo=UTC))
    assert not skipped.run_requests
    assert "youtube is deferred until 2026-11-20T08:00:00+00:00" in (skipped.skip_message or "")
    (request,) = tick(schedule, url, datetime(2026, 11, 20, 10, 20, tzinfo=UTC)).run_requests or []
    assert request.tags["kedah/platform"] == "youtube"
    # Another platform's ticks are not held back by YouTube's allowance.
    assert tick(COLLECTION_SCHEDULES["twitter"], url, datetime(2026, 11, 20, 7, 20, tzinfo=UTC)).run_requests


def range_of(platform: str, first: str, last: str) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": f"{first}|{platform}",
        "dagster/asset_partition_range_end": f"{last}|{platform}",
    }


# --- X: the daily post-read budget ------------------------------------------------------------------


def test_x_budget_spent_mid_run_keeps_the_posts_read_and_the_cursor_and_defers_until_utc_midnight(
    url, instance, monkeypatch
):
    monkeypatch.setenv("KEDAH_X_BEARER_TOKEN", "fake-x-bearer-DeferralSecret")
    # Ad-hoc reads spent most of today's 2,000: 11 are left, one page's worth.
    PgPostReadBudget(url).spend(NETWORK.clock().date(), 1989)
    NETWORK.adapter.add(SEARCH, Reply.json("twitter/search_recent_page1.json"))
    run(url, instance, "refresh_places")
    result = run(url, instance, "collect_posts", f"{DAY}|twitter")

    assert result.success
    assert len(NETWORK.adapter.calls(SEARCH)) == 1  # page 2 was not read: the budget is spent
    assert len(stored(url, "twitter")) == 2
    # The query was cut short: its cursor does not move past the posts it did not read.
    assert load_cursors(url, "x_api_v2") == {}
    (meta,) = metadata(result, "raw_posts")
    reset = datetime(2026, 11, 21, tzinfo=UTC)
    assert meta["quota_exhausted"] is True and meta["deferred_until"] == reset.isoformat()
    assert meta["run_telemetry"]["twitter"]["x_budget_stopped"] is True
    assert any(
        "twitter" in w and "deferred until 2026-11-21T00:00:00+00:00" in w for w in warnings(instance, result)
    )

    schedule = COLLECTION_SCHEDULES["twitter"]
    skipped = tick(schedule, url, datetime(2026, 11, 20, 22, 5, tzinfo=UTC))
    assert "twitter is deferred until 2026-11-21T00:00:00+00:00" in (skipped.skip_message or "")
    # After UTC midnight the schedule polls again, and the poll reads everything from the kept cursor.
    at = datetime(2026, 11, 21, 1, 5, tzinfo=UTC)
    (request,) = tick(schedule, url, at).run_requests or []
    NETWORK.clock.now = at
    NETWORK.adapter.add(
        SEARCH, Reply.json("twitter/search_recent_page1.json"), when=lambda p: "next_token" not in p
    )
    NETWORK.adapter.add(
        SEARCH,
        Reply.json("twitter/search_recent_page2.json"),
        when=lambda p: p.get("next_token") == PAGE2_TOKEN,
    )
    again = run(url, instance, "collect_posts", tags=request.tags)
    assert again.success and metadata(again, "raw_posts")[0]["quota_exhausted"] is False
    assert set(load_cursors(url, "x_api_v2").values()) == {NEWEST_TWEET}


# --- Meta: the Graph API's usage headers -----------------------------------------------------------


def test_graph_usage_at_100_percent_keeps_the_page_read_and_defers_instagram(url, instance, monkeypatch):
    monkeypatch.setenv("KEDAH_META_ACCESS_TOKEN", "EAAGDeferralMetaToken0123456789abc")
    monkeypatch.setenv("KEDAH_IG_USER_ID", IG_USER)
    app_usage = {"X-App-Usage": json.dumps({"call_count": 85, "total_time": 20, "total_cputime": 10})}
    spent = {"X-Business-Use-Case-Usage": json.dumps(
        {IG_USER: [{"type": "instagram", "call_count": 100, "total_cputime": 30, "total_time": 40,
                    "estimated_time_to_regain_access": 45}]}
    )}  # fmt: skip
    NETWORK.adapter.add(
        "/v25.0/ig_hashtag_search", Reply.json("instagram/ig_hashtag_search_langkawi.json", headers=app_usage)
    )
    NETWORK.adapter.add(
        "/v25.0/17843826142012345/recent_media",
        Reply.json("instagram/recent_media_langkawi_page1.json", headers=spent),
    )
    run(url, instance, "refresh_places")
    result = run(url, instance, "collect_posts", f"{DAY}|instagram")

    assert result.success
    assert len(stored(url, "instagram")) == 2  # page 1, read before the limit was reached
    assert len(NETWORK.adapter.seen) == 2  # page 2 was never asked for
    # 85 % slowed the call after it: a quarter of the two minutes' pause, through the injected sleep.
    assert NETWORK.sleep.waits == [30.0]
    (meta,) = metadata(result, "raw_posts")
    reset = NETWORK.clock() + timedelta(minutes=45)
    assert meta["quota_exhausted"] is True and meta["deferred_until"] == reset.isoformat()
    assert meta["run_telemetry"]["instagram"]["graph_usage_waits"] == 1
    skipped = tick(COLLECTION_SCHEDULES["instagram"], url, NETWORK.clock() + timedelta(minutes=20))
    assert f"instagram is deferred until {reset.isoformat()}" in (skipped.skip_message or "")
    assert tick(COLLECTION_SCHEDULES["instagram"], url, reset + timedelta(minutes=5)).run_requests


# --- Google Trends: 429s ---------------------------------------------------------------------------


def serve_trends(monkeypatch, *explore: Reply) -> None:
    serve_pytrends(monkeypatch, NETWORK.adapter)
    cookie = Reply.text(
        "google_trends/explore_page.html", "text/html; charset=UTF-8", cookies={"NID": "525=abc"}
    )
    NETWORK.adapter.add("/trends/explore/", cookie)
    NETWORK.adapter.add("/trends/api/explore", *explore)
    json_type = "application/json; charset=utf-8"
    NETWORK.adapter.add(
        "/trends/api/widgetdata/multiline", Reply.text("google_trends/multiline_kedah_group1.txt", json_type)
    )


def test_trends_429_backs_off_then_succeeds(url, instance, monkeypatch):
    monkeypatch.setenv("KEDAH_GOOGLE_TRENDS", "1")
    group = Reply.text("google_trends/explore_kedah_group1.txt", "application/json; charset=utf-8")
    serve_trends(monkeypatch, TOO_MANY, TOO_MANY, group)
    result = run(url, instance, "collect_search_interest", "2026-11-19")
    assert result.success
    (meta,) = metadata(result, "search_interest")
    assert meta["quota_exhausted"] is False and meta["rows_written"] == 5
    assert NETWORK.sleep.waits == [60.0, 120.0] and meta["rate_limit_waits"] == 2


def test_trends_429_persisting_defers_google_trends_and_keeps_the_stored_rows(url, instance, monkeypatch):
    monkeypatch.setenv("KEDAH_GOOGLE_TRENDS", "1")
    with psycopg.connect(url) as conn:
        conn.execute(
            """INSERT INTO kedah.search_interest (date, keyword, geo, interest, is_partial, keyword_group,
                   timeframe, provider, fetched_at)
               VALUES ('2026-11-19', 'Langkawi', 'MY-02', 42, false, '{Langkawi}', 'earlier', 'google_trends_pytrends', now())"""
        )
    serve_trends(monkeypatch, TOO_MANY, TOO_MANY, TOO_MANY, TOO_MANY)
    result = run(url, instance, "collect_search_interest", "2026-11-19")

    assert result.success
    assert NETWORK.sleep.waits == [60.0, 120.0, 240.0]
    (meta,) = metadata(result, "search_interest")
    reset = NETWORK.clock() + timedelta(hours=1)
    assert meta["quota_exhausted"] is True and meta["deferred_until"] == reset.isoformat()
    with psycopg.connect(url) as conn:
        assert read_table(conn, "search_interest")["interest"].tolist() == [42]  # kept as it was
    assert any("Google Trends kept refusing" in w for w in warnings(instance, result))
    skipped = tick(daily_search_interest, url, NETWORK.clock() + timedelta(minutes=10))
    assert f"google_trends is deferred until {reset.isoformat()}" in (skipped.skip_message or "")
    assert tick(daily_search_interest, url, reset + timedelta(minutes=1)).run_requests
