"""Meta insights that survive deprecations, the token's expiry, and malformed Graph API and YouTube
pages: through the real client code, answered from recorded-shape payloads."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from googleapiclient.http import HttpMockSequence
from source_fakes import FixtureAdapter, Reply, fixture_json

from kedah_analytics.config.tracking import TrackingConfig, default_tracking
from kedah_analytics.sources.common.base import SourceError
from kedah_analytics.sources.common.budget import InMemoryDailyCounter
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.insights import (
    AllAccountsFailed,
    account_metrics_metadata,
    collect_account_metrics,
)
from kedah_analytics.sources.meta.insights import FacebookPageInsightsSource, InstagramInsightsSource
from kedah_analytics.sources.meta.instagram import InMemoryHashtagLedger, InstagramHashtagSource
from kedah_analytics.sources.youtube.videos import YouTubeSource

TOKEN = "fake-meta-token-RemovedMetricFixture55555"  # plainly fake: no real token prefix
IG = "17841400008460056"
PAGE = "100064604811234"
V = "/v25.0"
REMOVED = "profile_links_taps"  # pretend Meta just removed it


def meta() -> Secret:
    return Secret(TOKEN, "KEDAH_META_ACCESS_TOKEN")


class InsightsServer(FixtureAdapter):
    """Answers ``/insights`` like Meta: only the metrics asked for, or code 100 when one of them is
    no longer a valid insights metric."""

    def __init__(self, removed: set[str], answer: dict[str, Any]):
        super().__init__()
        self.removed = removed
        self.answer = answer

    def send(self, request, **kwargs):
        from urllib.parse import parse_qsl, urlsplit

        parts = urlsplit(request.url)
        params = dict(parse_qsl(parts.query))
        if parts.path.endswith("/insights"):
            asked = params["metric"].split(",")
            if set(asked) & self.removed:
                reply = Reply.json("instagram/error_100_invalid_metric.json", status=400)
            else:
                data = [e for e in self.answer["data"] if e["name"] in asked]
                reply = Reply.json({**self.answer, "data": data})
            self.routes.insert(0, (parts.path, lambda _p: True, [reply]))
        return super().send(request, **kwargs)


def test_removed_meta_metric_is_dropped_recorded_and_the_others_kept(clock, sleep) -> None:
    server = InsightsServer({REMOVED}, fixture_json("instagram/insights_day_account1.json"))
    server.add(f"{V}/debug_token", *[Reply.json("instagram/debug_token_long_lived.json") for _ in range(2)])
    source = InstagramInsightsSource(
        meta(), [IG], default_tracking(), session=server.session(), clock=clock, sleep=sleep
    )

    result = source.fetch_account_metrics([date(2026, 11, 18), date(2026, 11, 19)])

    assert result.ok and result.succeeded == [IG]
    assert REMOVED in result.unavailable_metrics
    assert "valid insights metric" in result.unavailable_metrics[REMOVED]
    metrics = {r.metric for r in result.records}
    assert REMOVED not in metrics and len(metrics) == 10
    assert len(result.records) == 20  # ten metrics, two days, no duplicates
    calls = [s for s in server.seen if s.path.endswith("/insights")]
    # Day one halves its way to the refused metric; day two asks once, without it.
    assert all(REMOVED not in c.params["metric"] for c in calls[-1:])
    assert len(calls) <= 1 + 2 * 2 * 4 + 1
    outcome = collect_account_metrics(source, [date(2026, 11, 19)], clock())
    meta_data = account_metrics_metadata({}, [outcome])
    assert meta_data["platforms"]["instagram"]["metrics_unavailable"][REMOVED]
    assert meta_data["platforms"]["instagram"]["graph_api_version"] == "v25.0"
    assert any(REMOVED in line for line in meta_data["metrics_unavailable"])
    assert TOKEN not in json.dumps(meta_data)


def test_every_metric_refused_fails_the_account_not_silently(clock, sleep) -> None:
    config = TrackingConfig.model_validate({"instagram": {"insights_metrics": ["reach", "views"]}})
    server = InsightsServer({"reach", "views"}, fixture_json("instagram/insights_day_account1.json"))
    server.add(f"{V}/debug_token", Reply.json("instagram/debug_token_long_lived.json"))
    source = InstagramInsightsSource(meta(), [IG], config, session=server.session(), clock=clock, sleep=sleep)
    result = source.fetch_account_metrics([date(2026, 11, 19)])
    (failure,) = result.failures
    assert failure.error_type == "InvalidMetric" and not result.succeeded


def test_facebook_removed_metric_is_dropped_and_recorded(clock, sleep) -> None:
    config = TrackingConfig.model_validate(
        {
            "facebook": {
                "page_ids": [PAGE],
                "insights_metrics": ["page_media_view", "page_follows", "page_views_total"],
            }
        }
    )
    server = InsightsServer({"page_views_total"}, fixture_json("facebook/page_insights.json"))
    server.add(f"{V}/debug_token", Reply.json("instagram/debug_token_long_lived.json"))
    server.add(f"{V}/{PAGE}", Reply.json("facebook/page_info.json"))
    source = FacebookPageInsightsSource(meta(), config, session=server.session(), clock=clock, sleep=sleep)
    result = source.fetch_account_metrics([date(2026, 11, 18)])
    assert result.ok and set(result.unavailable_metrics) == {"page_views_total"}
    assert {r.metric for r in result.records} <= {"page_media_view", "page_follows"} and result.records


def test_token_expiring_soon_is_in_the_metadata_and_the_failure_text(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(f"{V}/debug_token", reply.json("instagram/debug_token_expiring.json"))
    adapter.add(f"{V}/{IG}/insights", reply.json("instagram/error_500_unknown.json", status=500))
    adapter.add(
        f"{V}/{IG}/insights", *[reply.json("instagram/error_500_unknown.json", status=500) for _ in range(5)]
    )
    source = InstagramInsightsSource(
        meta(), [IG], default_tracking(), session=session, clock=clock, sleep=sleep
    )
    with pytest.raises(AllAccountsFailed) as err:
        collect_account_metrics(source, [date(2026, 11, 19)], clock())
    assert "the Meta access token expires at 2026-11-23" in str(err.value)
    assert TOKEN not in str(err.value)
    debug = adapter.calls("/debug_token")[0]
    assert debug.params["input_token"] == TOKEN  # asked about, never shown


def test_token_expiring_soon_is_shown_even_when_the_run_succeeds(
    adapter, reply, session, clock, sleep
) -> None:
    adapter.add(f"{V}/debug_token", reply.json("instagram/debug_token_expiring.json"))
    adapter.add(f"{V}/{IG}/insights", reply.json("instagram/insights_day_account1.json"))
    source = InstagramInsightsSource(
        meta(), [IG], default_tracking(), session=session, clock=clock, sleep=sleep
    )
    outcome = collect_account_metrics(source, [date(2026, 11, 19)], clock())
    meta_data = account_metrics_metadata({}, [outcome])
    assert meta_data["warnings"] == ["instagram: the Meta access token expires at 2026-11-23T06:00:00+00:00"]
    assert meta_data["platforms"]["instagram"]["token_expires_at"] == "2026-11-23T06:00:00+00:00"
    assert TOKEN not in json.dumps(meta_data)


# --- malformed Graph API pages --------------------------------------------------------------


def test_malformed_graph_pages_are_quarantined_and_the_other_hashtags_go_on(
    adapter, reply, session, clock, sleep, load
) -> None:
    config = TrackingConfig.model_validate({"instagram": {"hashtags": ["langkawi", "visitkedah"]}})
    adapter.add(f"{V}/ig_hashtag_search", reply.json("instagram/ig_hashtag_search_langkawi.json"),
                when=lambda p: p.get("q") == "langkawi")  # fmt: skip
    adapter.add(f"{V}/ig_hashtag_search", reply.json("instagram/ig_hashtag_search_visitkedah.json"),
                when=lambda p: p.get("q") == "visitkedah")  # fmt: skip
    langkawi_id = load("instagram/ig_hashtag_search_langkawi.json")["data"][0]["id"]
    adapter.add(
        f"{V}/{langkawi_id}/recent_media", reply.json({"data": {"id": "not a list"}, "paging": ["x"]})
    )
    good = load("instagram/recent_media_visitkedah.json")
    good["data"].append({"id": ["17900000000000001"], "timestamp": "2026-11-20T01:00:00+0000"})
    good["data"].append(
        {"id": "17900000000000002", "timestamp": "2026-11-20T01:00:00+0000", "like_count": -3}
    )
    good["data"].append({"id": "17900000000000003", "timestamp": "2026-11-20T01:00:00+0000",
                         "caption": "Malam di #Langkawi #2022", "like_count": "12"})  # fmt: skip
    adapter.add(f"{V}/17841593698074073/recent_media", reply.json(good))
    source = InstagramHashtagSource(meta(), "17841400008460056", config, session=session, clock=clock,
                                    sleep=sleep, ledger=InMemoryHashtagLedger())  # fmt: skip
    result = source.fetch_posts("instagram", [date(2026, 11, 20)])
    reasons = [q.reason for q in result.quarantined]
    assert any("'data' is a dict, not a list" in r for r in reasons)
    assert any("'paging' is a list, not an object" in r for r in reasons)
    assert any("media id is a list" in r for r in reasons)
    posts = {p.post_id: p for p in result.posts}
    # An impossible count costs that count, not the post: stored with NULL likes, the repair named.
    assert posts["17900000000000002"].like_count is None
    assert posts["17900000000000002"].repaired == ("like_count",)
    assert not any("like_count" in r for r in reasons)
    assert posts["17900000000000003"].hashtags == ("Langkawi",)  # #2022 is no hashtag
    assert posts["17900000000000003"].like_count == 12
    assert len(posts) >= 2


def test_malformed_graph_html_body_with_http_200_is_retryable(adapter, reply, session, clock, sleep) -> None:
    html = Reply(200, b"<!DOCTYPE html><html><body>Sorry, something went wrong.</body></html>",
                 {"Content-Type": "text/html"})  # fmt: skip
    adapter.add(f"{V}/ig_hashtag_search", *[html for _ in range(5)])
    config = TrackingConfig.model_validate({"instagram": {"hashtags": ["langkawi"]}})
    source = InstagramHashtagSource(
        meta(), "17841400008460056", config, session=session, clock=clock, sleep=sleep
    )
    with pytest.raises(SourceError, match="unreadable body") as err:
        source.fetch_posts("instagram", [date(2026, 11, 20)])
    assert err.value.retryable


# --- malformed YouTube pages --------------------------------------------------------------------

OK = {"status": "200", "content-type": "application/json; charset=UTF-8"}


def test_malformed_youtube_items_are_quarantined_and_their_neighbours_stored(load_text, clock, sleep) -> None:
    search = json.loads(load_text("youtube/search_page2.json"))
    search["items"].append({"id": "notAnObject"})
    search.pop("nextPageToken", None)
    videos = json.loads(load_text("youtube/videos.json"))
    first = videos["items"][0]
    videos["items"] += [
        {**first, "id": "Sup0000002x", "statistics": {"likeCount": "\u00b2", "viewCount": "10"}},
        {
            **first,
            "id": "Year0000001",
            "snippet": {**first["snippet"], "publishedAt": "0001-01-01T00:00:00Z"},
        },
        {**first, "id": ["Lst00000001"]},
        {**first, "id": "Big00000001", "statistics": {"viewCount": str(2**63)}},
    ]
    http = HttpMockSequence([(OK, json.dumps(search)), (OK, json.dumps(videos))])
    config = TrackingConfig.model_validate({"youtube": {"queries": ["Langkawi"], "max_pages_per_query": 1}})
    src = YouTubeSource(Secret("AIzaFakeKey", "KEDAH_YOUTUBE_API_KEY"), config, http=http,
                        budget=InMemoryDailyCounter(), clock=clock, sleep=sleep)  # fmt: skip
    result = src.fetch_posts("youtube", [date(2026, 11, 19), date(2026, 11, 20)])
    reasons = [q.reason for q in result.quarantined]
    assert any("search result id is a str" in r for r in reasons)
    assert any("publishedAt is outside 2004..2099" in r for r in reasons)
    assert any("video id is a list" in r for r in reasons)
    assert result.posts  # the good videos are stored
    # An impossible count costs that count, not the video: stored with NULL there, the repair named.
    videos_by_id = {p.post_id: p for p in result.posts}
    assert videos_by_id["Sup0000002x"].like_count is None and videos_by_id["Sup0000002x"].repaired == (
        "likeCount",
    )
    assert videos_by_id["Big00000001"].view_count is None and videos_by_id["Big00000001"].repaired == (
        "viewCount",
    )
    assert not any("Count is" in r for r in reasons)
    assert result.telemetry.details["items_read"] == sum(
        result.telemetry.details[k]
        for k in ("items_stored", "items_quarantined", "items_folded", "items_outside_days")
    )
