"""YouTube Data API v3 through the real googleapiclient, answered by HttpMockSequence."""

from __future__ import annotations

from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from googleapiclient.http import HttpMockSequence

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.sources.common.base import CredentialsError, QuotaExhausted, SourceError
from kedah_analytics.sources.common.budget import InMemoryDailyCounter
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.youtube.google_api import next_pacific_midnight
from kedah_analytics.sources.youtube.videos import YouTubeSource

KEY = "AIzaSyFixtureYouTubeKey-0123456789abcdefg"
OK = {"status": "200", "content-type": "application/json; charset=UTF-8"}


def status(code: int) -> dict[str, str]:
    return {"status": str(code), "content-type": "application/json; charset=UTF-8"}


def tracking(queries=("Langkawi",), pages=2) -> TrackingConfig:
    return TrackingConfig.model_validate(
        {"youtube": {"queries": list(queries), "max_pages_per_query": pages}}
    )


def source(http, clock, sleep, budget=None, config=None) -> YouTubeSource:
    return YouTubeSource(
        Secret(KEY, "KEDAH_YOUTUBE_API_KEY"),
        config or tracking(),
        http=http,
        budget=budget,
        clock=clock,
        sleep=sleep,
    )


def query_of(uri: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(uri).query)


def test_search_then_videos_with_statistics(load_text, clock, sleep) -> None:
    http = HttpMockSequence(
        [
            (OK, load_text("youtube/search_page1.json")),
            (OK, load_text("youtube/search_page2.json")),
            (OK, load_text("youtube/videos.json")),
        ]
    )
    budget = InMemoryDailyCounter()
    result = source(http, clock, sleep, budget).fetch_posts(
        "youtube", [date(2026, 11, 19), date(2026, 11, 20)]
    )

    posts = {p.post_id: p for p in result.posts}
    assert set(posts) == {"a1B2c3D4e5F", "Zz9Yy8Xx7Ww"}  # Old00000001 is Nov 18 in Kedah
    vlog = posts["a1B2c3D4e5F"]
    assert (vlog.view_count, vlog.like_count, vlog.comment_count, vlog.share_count) == (15342, 812, 64, None)
    assert vlog.author_name == "Jalan Jalan Cari Makan" and vlog.author_id == "UCq1w2e3r4t5y6u7i8o9p0aa"
    assert vlog.lang == "ms" and vlog.hashtags == ("Langkawi", "VisitKedah")
    assert vlog.url == "https://www.youtube.com/watch?v=a1B2c3D4e5F"
    assert vlog.created_at == datetime(2026, 11, 19, 12, 0, 5, tzinfo=UTC)
    snorkel = posts["Zz9Yy8Xx7Ww"]
    assert snorkel.view_count == 2301 and snorkel.like_count is None and snorkel.comment_count is None
    (gone,) = result.quarantined
    assert gone.payload == {"id": "Gone0000001"} and "not returned by videos.list" in gone.reason

    search1, search2, videos = (query_of(uri) for uri, *_ in http.request_sequence)
    assert search1["q"] == ["Langkawi"] and search1["type"] == ["video"] and search1["part"] == ["snippet"]
    assert search1["regionCode"] == ["MY"] and search1["relevanceLanguage"] == ["ms"]
    assert search1["order"] == ["date"] and search1["maxResults"] == ["50"]
    assert search1["publishedAfter"] == ["2026-11-18T16:00:00Z"]
    assert search1["publishedBefore"] == ["2026-11-20T06:00:00Z"]  # not in the future
    assert "pageToken" not in search1 and search2["pageToken"] == ["CDIQAA"]
    assert videos["part"] == ["snippet,statistics"]
    assert videos["id"] == ["a1B2c3D4e5F,Zz9Yy8Xx7Ww,Gone0000001,Old00000001"]
    assert budget.spent(date(2026, 11, 19)) == 2  # 06:00 UTC is still Nov 19 in California
    assert result.telemetry.api_calls == 3


def test_videos_are_asked_in_groups_of_50(clock, sleep) -> None:
    import json

    items = [{"id": {"kind": "youtube#video", "videoId": f"vid{i:08d}"}} for i in range(60)]
    search = json.dumps({"kind": "youtube#searchListResponse", "items": items})
    empty_videos = json.dumps({"kind": "youtube#videoListResponse", "items": []})
    http = HttpMockSequence([(OK, search), (OK, empty_videos), (OK, empty_videos)])
    result = source(http, clock, sleep, config=tracking(pages=1)).fetch_posts("youtube", [date(2026, 11, 20)])
    ids = [query_of(uri)["id"][0].split(",") for uri, *_ in http.request_sequence[1:]]
    assert [len(batch) for batch in ids] == [50, 10]
    assert len(result.quarantined) == 60


def test_quota_exceeded_is_not_retried_and_says_when_it_resets(load_text, clock, sleep) -> None:
    http = HttpMockSequence([(status(403), load_text("youtube/error_quota_exceeded.json"))])
    with pytest.raises(QuotaExhausted) as err:
        source(http, clock, sleep).fetch_posts("youtube", [date(2026, 11, 20)])
    # 2026-11-20T06:00Z is 22:00 on Nov 19 in California: the reset is midnight PST = 08:00 UTC.
    assert err.value.reset_at == datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    assert "quotaExceeded" in str(err.value) and KEY not in str(err.value)
    assert not err.value.retryable and sleep.waits == [] and len(http.request_sequence) == 1
    assert err.value.partial is not None and err.value.partial.posts == []


def test_quota_exhausted_mid_fetch_keeps_the_partial_result(load_text, clock, sleep) -> None:
    http = HttpMockSequence(
        [
            (OK, load_text("youtube/search_page1.json")),
            (status(403), load_text("youtube/error_quota_exceeded.json")),
            (OK, load_text("youtube/videos.json")),
        ]
    )
    with pytest.raises(QuotaExhausted) as err:
        source(http, clock, sleep).fetch_posts("youtube", [date(2026, 11, 19), date(2026, 11, 20)])
    # videos.list spends units, not search.list's allowance: the videos found before it ran out are
    # read, and kept in the partial result for the run to store.
    partial = err.value.partial
    assert partial.telemetry.api_calls == 3
    assert {p.post_id for p in partial.posts} == {"a1B2c3D4e5F", "Zz9Yy8Xx7Ww"}
    assert "videos.list" in http.request_sequence[-1][0] or "/videos" in http.request_sequence[-1][0]


def test_the_daily_search_allowance_is_checked_before_calling(clock, sleep) -> None:
    budget = InMemoryDailyCounter()
    budget.spend(date(2026, 11, 19), 100)
    http = HttpMockSequence([])
    yt = source(http, clock, sleep, budget)
    assert yt.search_calls_left() == 0
    with pytest.raises(QuotaExhausted, match="allowance of 100 calls") as err:
        yt.fetch_posts("youtube", [date(2026, 11, 20)])
    assert http.request_sequence == [] and err.value.reset_at == next_pacific_midnight(clock())


def test_backend_error_then_success(load_text, clock, sleep) -> None:
    http = HttpMockSequence(
        [
            (status(503), load_text("youtube/error_backend_503.json")),
            (OK, load_text("youtube/search_empty.json")),
        ]
    )
    result = source(http, clock, sleep, config=tracking(pages=1)).fetch_posts("youtube", [date(2026, 11, 20)])
    assert result.posts == [] and sleep.waits == [2.0] and len(http.request_sequence) == 2


def test_backend_errors_exhaust_the_retries(load_text, clock, sleep) -> None:
    http = HttpMockSequence([(status(503), load_text("youtube/error_backend_503.json"))] * 4)
    with pytest.raises(SourceError, match="failed after 4 attempts") as err:
        source(http, clock, sleep).fetch_posts("youtube", [date(2026, 11, 20)])
    assert KEY not in str(err.value) and err.value.retryable


def test_invalid_key_names_the_variable_and_never_the_key(load_text, clock, sleep) -> None:
    http = HttpMockSequence([(status(400), load_text("youtube/error_key_invalid.json"))])
    with pytest.raises(CredentialsError) as err:
        source(http, clock, sleep).fetch_posts("youtube", [date(2026, 11, 20)])
    assert err.value.env_var == "KEDAH_YOUTUBE_API_KEY" and "KEDAH_YOUTUBE_API_KEY" in str(err.value)
    assert KEY not in str(err.value) and KEY not in repr(err.value)
    # The request really carried the key (and googleapiclient's own error text would have shown it).
    assert f"key={KEY}" in http.request_sequence[0][0]
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_future_days_make_no_call(clock, sleep) -> None:
    http = HttpMockSequence([])
    result = source(http, clock, sleep).fetch_posts("youtube", [date(2026, 11, 21)])
    assert result.posts == [] and http.request_sequence == [] and "not started" in result.telemetry.notes[0]
