"""Account-level daily metrics: Instagram and Facebook insights (Graph API), YouTube Analytics."""

from __future__ import annotations

from datetime import date

import pytest
from googleapiclient.http import HttpMockSequence

from kedah_analytics.config.tracking import (
    REMOVED_INSTAGRAM_METRICS,
    TrackingConfig,
    default_tracking,
)
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.meta.insights import FacebookPageInsightsSource, InstagramInsightsSource
from kedah_analytics.sources.youtube.analytics import YouTubeAnalyticsSource

TOKEN = "EAAGm0PX4ZCpsBAInsightsFixtureToken0987654321"
GOOD = "17841400008460056"
MISSING = "17841499999999999"
PAGE = "100064604811234"
V = "/v25.0"
OK = {"status": "200", "content-type": "application/json; charset=UTF-8"}


def meta() -> Secret:
    return Secret(TOKEN, "KEDAH_META_ACCESS_TOKEN")


def test_instagram_insights_per_day_and_one_failing_account_does_not_stop_the_other(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(f"{V}/debug_token", reply.json("instagram/debug_token_long_lived.json"))
    adapter.add(f"{V}/{MISSING}/insights", reply.json("instagram/error_100_no_object.json", status=400))
    adapter.add(f"{V}/{GOOD}/insights", reply.json("instagram/insights_day_account1.json"))
    source = InstagramInsightsSource(
        meta(), [MISSING, GOOD], default_tracking(), session=session, clock=clock, sleep=sleep
    )

    result = source.fetch_account_metrics([date(2026, 11, 19)])

    assert result.succeeded == [GOOD] and not result.ok
    (failure,) = result.failures
    assert failure.account_id == MISSING and failure.error_type == "BadRequest" and not failure.retryable
    assert TOKEN not in failure.error
    values = {r.metric: r.value for r in result.records}
    assert values["reach"] == 1834 and values["views"] == 5230 and values["follows_and_unfollows"] == 12
    assert values["profile_links_taps"] is None  # no total_value in the answer
    assert len(result.records) == 11
    record = result.records[0]
    assert record.platform == "instagram" and record.account_id == GOOD and record.date == date(2026, 11, 19)
    assert record.provider == "instagram_graph_insights" and record.metadata["metric_type"] == "total_value"

    call = adapter.calls(f"{GOOD}/insights")[0]
    metrics = call.params["metric"].split(",")
    assert not set(metrics) & REMOVED_INSTAGRAM_METRICS
    assert set(metrics) == {
        "reach", "views", "accounts_engaged", "total_interactions", "likes", "comments", "shares", "saves",
        "replies", "follows_and_unfollows", "profile_links_taps",
    }  # fmt: skip
    assert call.params["period"] == "day" and call.params["metric_type"] == "total_value"
    assert call.params["since"] == "1795017600" and call.params["until"] == "1795104000"  # Kedah day bounds


def test_removed_metrics_are_refused_by_configuration() -> None:
    with pytest.raises(ValueError, match="impressions"):
        TrackingConfig.model_validate({"instagram": {"insights_metrics": ["reach", "impressions"]}})
    with pytest.raises(ValueError, match="page_fans"):
        TrackingConfig.model_validate({"facebook": {"insights_metrics": ["page_fans"]}})
    with pytest.raises(ValueError, match="page_impressions"):
        TrackingConfig.model_validate({"facebook": {"insights_metrics": ["page_impressions_unique"]}})


def test_facebook_page_insights_by_pacific_day(adapter, reply, session, clock, sleep) -> None:
    config = TrackingConfig.model_validate(
        {
            "facebook": {
                "page_ids": [PAGE],
                "insights_metrics": ["page_media_view", "page_total_media_view_unique", "page_follows"],
            }
        }
    )
    adapter.add(f"{V}/debug_token", reply.json("instagram/debug_token_long_lived.json"))
    adapter.add(f"{V}/{PAGE}", reply.json("facebook/page_info.json"))
    adapter.add(f"{V}/{PAGE}/insights", reply.json("facebook/page_insights.json"))
    source = FacebookPageInsightsSource(meta(), config, session=session, clock=clock, sleep=sleep)

    result = source.fetch_account_metrics([date(2026, 11, 18), date(2026, 11, 19)])

    assert result.ok and result.succeeded == [PAGE]
    values = {(r.metric, r.date): r.value for r in result.records}
    # end_time 2026-11-19T08:00Z is midnight PST ending Nov 18 (Pacific day basis).
    assert values[("page_media_view", date(2026, 11, 18))] == 1412
    assert values[("page_media_view", date(2026, 11, 19))] == 998
    assert values[("page_follows", date(2026, 11, 19))] == 152340
    assert len(result.records) == 6  # the Nov 17 values are outside the days asked for
    assert all(r.metadata["day_basis"] == "America/Los_Angeles" for r in result.records)
    call = adapter.calls("/insights")[0]
    assert call.params["metric"] == "page_media_view,page_total_media_view_unique,page_follows"
    assert (
        call.params["period"] == "day"
        and call.params["since"] == "2026-11-17"
        and call.params["until"] == "2026-11-21"
    )
    assert call.params["access_token"] != TOKEN  # the Page's own token


def test_facebook_insights_expired_token_is_a_failure_for_that_page(
    adapter, reply, session, clock, sleep
) -> None:
    config = TrackingConfig.model_validate({"facebook": {"page_ids": [PAGE]}})
    adapter.add(f"{V}/debug_token", reply.json("instagram/error_190_expired.json", status=400))
    adapter.add(f"{V}/{PAGE}", reply.json("instagram/error_190_expired.json", status=400))
    result = FacebookPageInsightsSource(
        meta(), config, session=session, clock=clock, sleep=sleep
    ).fetch_account_metrics([date(2026, 11, 19)])
    (failure,) = result.failures
    assert failure.error_type == "CredentialsError" and "KEDAH_META_ACCESS_TOKEN" in failure.error
    assert TOKEN not in failure.error and result.records == []


def test_youtube_analytics_daily_rows_and_per_channel_failure(load_text, clock, sleep) -> None:
    config = TrackingConfig.model_validate(
        {"youtube": {"channel_ids": ["UCbroken0000000000000000", "UCq1w2e3r4t5y6u7i8o9p0aa"]}}
    )
    http = HttpMockSequence(
        [
            ({"status": "403"}, load_text("youtube/error_forbidden_analytics.json")),
            (OK, load_text("youtube/analytics_report.json")),
        ]
    )
    result = YouTubeAnalyticsSource(config, http=http, clock=clock, sleep=sleep).fetch_account_metrics(
        [date(2026, 11, 17), date(2026, 11, 18)]
    )
    assert result.succeeded == ["UCq1w2e3r4t5y6u7i8o9p0aa"]
    (failure,) = result.failures
    assert failure.account_id == "UCbroken0000000000000000" and failure.error_type == "PermissionDenied"
    values = {(r.metric, r.date): r.value for r in result.records}
    assert values[("views", date(2026, 11, 17))] == 1203
    assert values[("estimatedMinutesWatched", date(2026, 11, 18))] == 2810
    assert len(result.records) == 10
    uri = http.request_sequence[1][0]
    assert "ids=channel%3D%3DUCq1w2e3r4t5y6u7i8o9p0aa" in uri and "dimensions=day" in uri
    assert "metrics=views%2Clikes%2Ccomments%2CestimatedMinutesWatched%2CsubscribersGained" in uri
    assert "startDate=2026-11-17" in uri and "endDate=2026-11-18" in uri


def test_youtube_analytics_defaults_to_the_authorised_channel(load_text, clock, sleep) -> None:
    http = HttpMockSequence([(OK, load_text("youtube/analytics_report.json"))])
    result = YouTubeAnalyticsSource(
        default_tracking(), http=http, clock=clock, sleep=sleep
    ).fetch_account_metrics([date(2026, 11, 18)])
    assert "ids=channel%3D%3DMINE" in http.request_sequence[0][0]
    assert {r.date for r in result.records} == {date(2026, 11, 18)} and result.succeeded == ["MINE"]
