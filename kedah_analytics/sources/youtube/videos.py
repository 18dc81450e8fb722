"""YouTube Data API v3 through google-api-python-client: recent videos about Kedah places.

``search.list`` has its own allowance of 100 calls a day (reset at midnight Pacific), so a counter
is checked before every search call; ``videos.list`` (1 unit, up to 50 ids) adds the statistics.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from kedah_analytics.config.settings import YOUTUBE_API_KEY
from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import PostRecord, kedah_date_bounds
from kedah_analytics.sources.common.base import FetchResult, FetchTelemetry, QuotaExhausted, check_platform
from kedah_analytics.sources.common.budget import DailyAllowance, DailyCounter, InMemoryDailyCounter
from kedah_analytics.sources.common.days import PACIFIC, days_in_reach
from kedah_analytics.sources.common.pages import PageReader
from kedah_analytics.sources.common.parsing import (
    BadValue,
    item_id,
    json_object,
    optional_object,
    optional_str,
    post_time,
)
from kedah_analytics.sources.common.posts import Counts, written_post
from kedah_analytics.sources.common.retry import Clock, RetryPolicy, Sleep, utcnow
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.youtube.google_api import DEFAULT_HTTP_TIMEOUT, execute_google_request

PROVIDER = "youtube_data_v3"
PLATFORM = "youtube"


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def video_to_post(item: Any) -> PostRecord:
    """One ``videos.list`` item. Statistics arrive as strings; missing ones (hidden likes) are None.
    Raises :class:`BadValue` for what cannot be a row."""
    item = json_object(item, "video")
    video_id = item_id(item.get("id"), "video id")
    snippet = item.get("snippet")
    if not isinstance(snippet, Mapping):
        raise BadValue(f"video {video_id:.40} has no snippet")
    created_at = post_time(snippet.get("publishedAt"), "publishedAt")
    title = optional_str(snippet.get("title")) or ""
    description = optional_str(snippet.get("description")) or ""
    text = f"{title}\n\n{description}".strip()
    stats = optional_object(item.get("statistics"), "statistics")
    counts = Counts()
    lang = snippet.get("defaultAudioLanguage") or snippet.get("defaultLanguage")
    return written_post(
        PLATFORM,
        PROVIDER,
        item,
        counts,
        post_id=video_id,
        created_at=created_at,
        text=text,
        author_id=optional_str(snippet.get("channelId")),
        author_name=optional_str(snippet.get("channelTitle")),
        url=f"https://www.youtube.com/watch?v={video_id}",
        like_count=counts(stats.get("likeCount"), "likeCount"),
        comment_count=counts(stats.get("commentCount"), "commentCount"),
        view_count=counts(stats.get("viewCount"), "viewCount"),
        lang=optional_str(lang),
    )


def search_result_video_id(item: Any) -> str | None:
    """The video id of one ``search.list`` result; None for a channel or playlist result; raises
    :class:`BadValue` when a video result has no usable id."""
    item = json_object(item, "search result")
    ident = item.get("id")
    if not isinstance(ident, Mapping):
        raise BadValue(f"search result id is a {type(ident).__name__}, not an object")
    kind = ident.get("kind")
    if isinstance(kind, str) and kind != "youtube#video":
        return None
    return item_id(ident.get("videoId"), "search result videoId")


def read_search_page(response: Any, reader: PageReader, video_ids: list[str]) -> str | None:
    """One ``search.list`` page: its video ids appended to ``video_ids``; the next page token.
    A result without a usable video id is quarantined (it is not a post yet, so not in the tally)."""
    body = reader.page(response, "YouTube search.list")
    if body is None:
        return None
    for item in reader.list_field(body, "items", "YouTube search.list"):
        try:
            video_id = search_result_video_id(item)
        except BadValue as exc:
            reader.quarantine_page(f"YouTube search.list: {exc}", item)
            continue
        if video_id is not None and video_id not in video_ids:
            video_ids.append(video_id)
    return reader.text_field(body, "nextPageToken", "YouTube search.list")


def read_videos_page(response: Any, batch: list[str], reader: PageReader) -> None:
    """One ``videos.list`` answer into ``reader``; ids searched for but not answered are quarantined."""
    seen: set[str] = set()
    body = reader.page(response, "YouTube videos.list")
    items = reader.list_field(body, "items", "YouTube videos.list") if body is not None else []
    for item in items:
        record = reader.read(item, video_to_post, where="YouTube: ")
        if record is None:
            if isinstance(item, Mapping) and isinstance(item.get("id"), str):
                seen.add(item["id"])
            continue
        seen.add(record.post_id)
        reader.keep(record)
    for video_id in batch:
        if video_id not in seen:
            reader.tally.read += 1
            reader.quarantine_item(
                f"video {video_id} found by search.list but not returned by videos.list "
                "(private, deleted or blocked)",
                {"id": video_id},
            )


def build_youtube(api_key: Secret, *, http: Any = None, timeout: float = DEFAULT_HTTP_TIMEOUT) -> Any:
    """The YouTube Data API v3 service from the discovery document shipped in the package (no network)."""
    import httplib2
    from googleapiclient.discovery import build  # loads when a real source is built

    return build(
        "youtube",
        "v3",
        developerKey=api_key.reveal(),
        http=http if http is not None else httplib2.Http(timeout=timeout),
        static_discovery=True,
        cache_discovery=False,
    )


class YouTubeSource:
    """Videos matching the tracked YouTube queries, published on the requested Kedah days."""

    provider = PROVIDER
    polls_from_cursors = False

    def __init__(
        self,
        api_key: Secret,
        tracking: TrackingConfig,
        *,
        http: Any = None,
        budget: DailyCounter | None = None,
        timeout: float = DEFAULT_HTTP_TIMEOUT,
        clock: Clock = utcnow,
        sleep: Sleep = time.sleep,
        policy: RetryPolicy | None = None,
    ):
        self._key = api_key
        self.options = tracking.youtube
        self.service = build_youtube(api_key, http=http, timeout=timeout)
        # search.list's own allowance, per Pacific day (Google resets it at midnight Pacific).
        self.allowance = DailyAllowance(
            budget if budget is not None else InMemoryDailyCounter(),
            self.options.daily_search_call_budget,
            PACIFIC,
        )
        self.clock = clock
        self.sleep = sleep
        self.policy = policy or RetryPolicy(max_attempts=4)

    def __repr__(self) -> str:
        return f"YouTubeSource(queries={len(self.options.queries)}, key={self._key!r})"

    def _execute(self, request: Any, what: str, telemetry: FetchTelemetry) -> dict[str, Any]:
        return execute_google_request(
            request,
            what=what,
            env_var=YOUTUBE_API_KEY.name,
            secrets=[self._key],
            policy=self.policy,
            sleep=self.sleep,
            clock=self.clock,
            telemetry=telemetry,
        )

    def search_calls_left(self) -> int:
        return self.allowance.left(self.clock())

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        check_platform(self, platform, PLATFORM)
        telemetry = FetchTelemetry()
        now = self.clock()
        wanted = days_in_reach(days, telemetry, latest=now)
        reader = PageReader(PLATFORM, PROVIDER, wanted, telemetry)
        if not wanted:
            return FetchResult([], reader.quarantined, telemetry, PROVIDER)
        after = kedah_date_bounds(wanted[0])[0]
        before = min(kedah_date_bounds(wanted[-1])[1], now)
        video_ids: list[str] = []
        spent: QuotaExhausted | None = None
        try:
            self._search(after, before, reader, video_ids)
        except QuotaExhausted as exc:
            spent = exc
        # videos.list spends units, not the search.list allowance: the videos found before the
        # allowance ran out are still read, so the run stores them.
        try:
            self._videos(video_ids, reader)
        except QuotaExhausted as exc:
            spent = spent or exc
        if spent is not None:
            spent.partial = reader.result()
            raise spent
        return reader.result()

    def _search(self, after: datetime, before: datetime, reader: PageReader, video_ids: list[str]) -> None:
        telemetry = reader.telemetry
        for query in self.options.queries:
            page_token: str | None = None
            for _ in range(self.options.max_pages_per_query):
                self._spend_search_call()
                response = self._execute(
                    self.service.search().list(
                        part="snippet",
                        q=query,
                        type="video",
                        publishedAfter=rfc3339(after),
                        publishedBefore=rfc3339(before),
                        regionCode=self.options.region_code,
                        relevanceLanguage=self.options.relevance_language,
                        order="date",
                        maxResults=50,
                        pageToken=page_token,
                    ),
                    "YouTube search.list",
                    telemetry,
                )
                telemetry.pages += 1
                page_token = read_search_page(response, reader, video_ids)
                if not page_token:
                    break
            else:
                telemetry.notes.append(
                    f"stopped after {self.options.max_pages_per_query} search pages for {query!r}; "
                    "more remain"
                )

    def _spend_search_call(self) -> None:
        now = self.clock()
        if self.allowance.left(now) <= 0:
            reset_at = self.allowance.resets_at(now)
            raise QuotaExhausted(
                f"YouTube search.list: the daily allowance of {self.allowance.limit} calls "
                f"is spent; resets at {reset_at.isoformat()}",
                reset_at=reset_at,
            )
        # Counted before the call: a failed call still spends the allowance.
        self.allowance.spend(now)

    def _videos(self, video_ids: list[str], reader: PageReader) -> None:
        for start in range(0, len(video_ids), 50):
            batch = video_ids[start : start + 50]
            response = self._execute(
                self.service.videos().list(part="snippet,statistics", id=",".join(batch), maxResults=50),
                "YouTube videos.list",
                reader.telemetry,
            )
            reader.telemetry.pages += 1
            read_videos_page(response, batch, reader)
