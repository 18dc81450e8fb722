"""The deferral logic on its own: when a source waits until, what Meta's usage headers mean, how
calls slow down before 100 %, and what a source hands back when a rate limit runs out mid-fetch."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.deferrals import Deferral, active_deferral, active_deferrals, deferral, record_deferral
from kedah_analytics.sources.common.base import QuotaExhausted, QuotaSpent, RateLimited
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.meta.graph import GraphApiClient
from kedah_analytics.sources.meta.usage import GraphUsage, UsagePacing, graph_throttle_wait, read_usage
from kedah_analytics.sources.twitter.search import TwitterSource

NOW = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
SEARCH = "/2/tweets/search/recent"


def test_a_deferral_lasts_until_the_providers_reset_or_an_hour_when_it_names_none() -> None:
    named = deferral("youtube", "youtube_data_v3", QuotaSpent("spent", NOW + timedelta(hours=2)), NOW)
    assert named.until == NOW + timedelta(hours=2)
    unnamed = deferral("google_trends", "google_trends_pytrends", QuotaSpent("429", None), NOW)
    assert unnamed.until == NOW + timedelta(hours=1)
    assert named.skip_reason().startswith("youtube is deferred until 2026-11-20T08:00:00+00:00")
    assert named.as_metadata() == {"deferred_until": "2026-11-20T08:00:00+00:00", "deferred_reason": "spent"}


def test_deferrals_are_kept_in_postgres_and_lapse_at_their_reset(warehouse_url) -> None:
    with psycopg.connect(warehouse_url) as conn:
        conn.execute("TRUNCATE kedah.source_deferrals")
    record_deferral(
        warehouse_url, Deferral("youtube", "youtube_data_v3", NOW + timedelta(hours=2), "allowance")
    )
    record_deferral(warehouse_url, Deferral("twitter", "x_api_v2", NOW + timedelta(hours=18), "budget"))
    with psycopg.connect(warehouse_url) as conn:
        assert set(active_deferrals(conn, NOW)) == {"youtube", "twitter"}
        assert set(active_deferrals(conn, NOW + timedelta(hours=3))) == {"twitter"}
    # A later run's reset replaces the earlier one (the newest is the best known).
    record_deferral(warehouse_url, Deferral("youtube", "youtube_data_v3", NOW + timedelta(hours=5), "again"))
    with psycopg.connect(warehouse_url) as conn:
        held = active_deferral(conn, "youtube", NOW + timedelta(hours=3))
    assert held is not None and held.reason == "again" and held.until == NOW + timedelta(hours=5)


def test_usage_headers_are_read_as_the_highest_share_and_the_longest_regain() -> None:
    app = {"X-App-Usage": json.dumps({"call_count": 12, "total_time": 85, "total_cputime": 3})}
    assert read_usage(app) == GraphUsage(85.0, None)
    buc = {"X-Business-Use-Case-Usage": json.dumps(
        {"1": [{"type": "pages", "call_count": 100, "total_cputime": 4, "total_time": 9,
                "estimated_time_to_regain_access": 7}],
         "2": [{"type": "instagram", "call_count": 5, "estimated_time_to_regain_access": 30}]}
    )}  # fmt: skip
    assert read_usage(buc) == GraphUsage(100.0, 30.0)
    assert graph_throttle_wait(buc) == 1800.0
    assert read_usage({"X-App-Usage": "not json"}) is None and read_usage({}) is None


def test_calls_slow_down_in_proportion_above_80_percent_and_stop_at_100() -> None:
    pacing = UsagePacing()
    assert [pacing.pause(GraphUsage(p)) for p in (50, 80, 90, 95, 100)] == [0.0, 0.0, 60.0, 90.0, 120.0]
    assert GraphUsage(99.0).spent(NOW) is None
    spent = GraphUsage(100.0).spent(NOW)
    assert spent is not None and spent.reset_at == NOW + timedelta(hours=1)
    regain = GraphUsage(40.0, regain_minutes=30).spent(NOW)
    assert regain is not None and regain.reset_at == NOW + timedelta(minutes=30)


def test_the_graph_client_sleeps_through_its_injected_sleep_then_stops_at_100_percent(
    adapter, reply, session, clock, sleep
) -> None:
    def usage(percent: int) -> dict[str, str]:
        return {"X-App-Usage": json.dumps({"call_count": percent, "total_time": 1, "total_cputime": 1})}

    for percent in (70, 90, 100):
        adapter.add("/v25.0/me", reply.json({"id": "1"}, headers=usage(percent)))
    client = GraphApiClient(Secret("EAAGUsageToken0123456789", "KEDAH_META_ACCESS_TOKEN"), session=session,
                            clock=clock, sleep=sleep)  # fmt: skip
    client.get("me")
    client.get("me")  # after 70 %: no wait
    assert sleep.waits == []
    client.get("me")  # after 90 %: half of the two minutes
    assert sleep.waits == [60.0]
    with pytest.raises(QuotaExhausted, match="usage at 100%") as err:
        client.get("me")  # after 100 %: nothing is sent
    assert err.value.reset_at == clock() + timedelta(hours=1) and len(adapter.seen) == 3


def test_x_rate_limited_mid_fetch_hands_back_the_posts_read_without_moving_the_cursor(
    adapter, reply, session, clock, sleep
) -> None:
    far = {"x-rate-limit-reset": str(int(clock().timestamp()) + 3 * 3600)}
    adapter.add(SEARCH, reply.json("twitter/search_recent_page1.json"))
    adapter.add(SEARCH, reply.json("twitter/error_429.json", status=429, headers=far))
    tracking = TrackingConfig.model_validate(
        {"place_terms": ["Langkawi"], "hashtags": [], "twitter": {"max_pages_per_query": 2}}
    )
    source = TwitterSource(Secret("fake-x-bearer-Mid", "KEDAH_X_BEARER_TOKEN"), tracking, session=session,
                           clock=clock, sleep=sleep)  # fmt: skip
    with pytest.raises(RateLimited) as err:
        source.fetch_posts("twitter", [date(2026, 11, 20)], {source.queries[0]: "2123500000000000000"})
    partial = err.value.partial
    assert partial is not None and len(partial.posts) == 2
    # No cursor for the query cut short: the stored one stays (saving upserts only the keys given),
    # rather than move past the page it could not read.
    assert partial.cursors == {}
    assert err.value.reset_at == clock() + timedelta(hours=3)
