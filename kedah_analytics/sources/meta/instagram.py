"""Instagram hashtag search through the Graph API: recent public media for the tracked hashtags.

``recent_media`` covers the last 24 hours only, and an account may query 30 unique hashtags in
any 7 days; a ledger remembers which hashtags were queried when (and their ids), so the budget
holds across runs once the ledger is persistent.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import AbstractContextManager, nullcontext
from datetime import date, datetime, timedelta
from typing import Any, Protocol, Unpack

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import PostRecord
from kedah_analytics.sources.common.base import (
    BadRequest,
    Exhausted,
    FetchResult,
    FetchTelemetry,
    check_platform,
)
from kedah_analytics.sources.common.days import days_in_reach
from kedah_analytics.sources.common.pages import PageReader
from kedah_analytics.sources.common.parsing import (
    item_id,
    json_object,
    optional_str,
    optional_text,
    post_time,
)
from kedah_analytics.sources.common.posts import Counts, written_post
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.meta.graph import GraphOptions, graph_client

PROVIDER = "instagram_graph_hashtags"
PLATFORM = "instagram"
MEDIA_FIELDS = "id,caption,media_type,like_count,comments_count,permalink,timestamp"
RECENT_MEDIA_WINDOW = timedelta(hours=24)
HASHTAG_BUDGET_WINDOW = timedelta(days=7)


class HashtagLedger(Protocol):
    """Which hashtags an Instagram account queried, and when; and the hashtag ids already found."""

    def queried_since(self, account_id: str, since: datetime) -> set[str]: ...

    def record_query(self, account_id: str, hashtag: str, at: datetime) -> None: ...

    def hashtag_id(self, hashtag: str) -> str | None: ...

    def remember_hashtag_id(self, hashtag: str, hashtag_id: str) -> None: ...

    def for_one_poll(self) -> AbstractContextManager[HashtagLedger]:
        """The ledger one poll asks (from one thread): a persistent one on a single connection."""
        ...


class InMemoryHashtagLedger:
    """A process-local ledger (tests, one-off runs). A deployment uses a persistent one."""

    def __init__(self) -> None:
        self._queries: dict[tuple[str, str], datetime] = {}
        self._ids: dict[str, str] = {}
        self._lock = threading.Lock()

    def queried_since(self, account_id: str, since: datetime) -> set[str]:
        with self._lock:
            return {tag for (acct, tag), at in self._queries.items() if acct == account_id and at > since}

    def record_query(self, account_id: str, hashtag: str, at: datetime) -> None:
        with self._lock:
            self._queries[(account_id, hashtag)] = at

    def hashtag_id(self, hashtag: str) -> str | None:
        return self._ids.get(hashtag)

    def remember_hashtag_id(self, hashtag: str, hashtag_id: str) -> None:
        with self._lock:
            self._ids[hashtag] = hashtag_id

    def for_one_poll(self) -> AbstractContextManager[HashtagLedger]:
        return nullcontext(self)


def media_to_post(item: Any, hashtag: str = "") -> PostRecord:
    """One ``recent_media`` item. Hashtag search gives no username, and hidden likes give no count.
    Raises :class:`BadValue` for what cannot be a row."""
    item = json_object(item, "media item")
    media_id = item_id(item.get("id"), "media id")
    created_at = post_time(item.get("timestamp"), "timestamp")
    caption = optional_text(item.get("caption"), "caption") or ""
    counts = Counts()
    return written_post(
        PLATFORM,
        PROVIDER,
        item,
        counts,
        post_id=media_id,
        created_at=created_at,
        text=caption,
        url=optional_str(item.get("permalink")),
        like_count=counts(item.get("like_count"), "like_count"),  # absent when the owner hides likes
        comment_count=counts(item.get("comments_count"), "comments_count"),
    )


def read_media_page(page: Any, hashtag: str, reader: PageReader) -> None:
    """One ``recent_media`` page into ``reader``."""
    reader.read_list_page(
        page, f"#{hashtag} recent_media", lambda i: media_to_post(i, hashtag), item_where=f"#{hashtag}: "
    )


class InstagramHashtagSource:
    """Recent public Instagram media for the tracked hashtags, for the last 24 hours."""

    provider = PROVIDER
    polls_from_cursors = False

    def __init__(
        self,
        access_token: Secret,
        ig_user_id: str,
        tracking: TrackingConfig,
        *,
        ledger: HashtagLedger | None = None,
        **graph: Unpack[GraphOptions],
    ):
        self.ig_user_id = ig_user_id
        self.options = tracking.instagram
        self.client = graph_client(access_token, tracking, graph)
        self.ledger: HashtagLedger = ledger if ledger is not None else InMemoryHashtagLedger()
        self.clock = self.client.clock

    def __repr__(self) -> str:
        return (
            f"InstagramHashtagSource(ig_user_id={self.ig_user_id!r}, hashtags={len(self.options.hashtags)})"
        )

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        check_platform(self, platform, PLATFORM)
        telemetry = FetchTelemetry()
        now = self.clock()
        wanted = days_in_reach(
            days,
            telemetry,
            earliest=now - RECENT_MEDIA_WINDOW,
            latest=now,
            window="Instagram hashtag search's 24-hour",
        )
        reader = PageReader(PLATFORM, PROVIDER, wanted, telemetry)
        if not wanted:
            return FetchResult([], [], telemetry, PROVIDER)

        telemetry.details["graph_api_version"] = self.client.version
        try:
            with self.ledger.for_one_poll() as ledger:
                for hashtag in self.options.hashtags:
                    hashtag_id = self._hashtag_id(ledger, hashtag, now, telemetry)
                    if hashtag_id is None:
                        continue
                    pages = self.client.iter_pages(
                        f"{hashtag_id}/recent_media",
                        {"user_id": self.ig_user_id, "fields": MEDIA_FIELDS, "limit": 50},
                        max_pages=self.options.max_pages_per_hashtag,
                        telemetry=telemetry,
                    )
                    for page in pages:
                        read_media_page(page, hashtag, reader)
        except Exhausted as exc:
            exc.partial = reader.result()  # the media read before the rate limit ran out
            raise
        return reader.result()

    def hashtag_budget_left(self) -> int:
        used = self.ledger.queried_since(self.ig_user_id, self.clock() - HASHTAG_BUDGET_WINDOW)
        return max(0, self.options.weekly_hashtag_budget - len(used))

    def _hashtag_id(
        self, ledger: HashtagLedger, hashtag: str, now: datetime, telemetry: FetchTelemetry
    ) -> str | None:
        used = ledger.queried_since(self.ig_user_id, now - HASHTAG_BUDGET_WINDOW)
        if hashtag not in used and len(used) >= self.options.weekly_hashtag_budget:
            telemetry.notes.append(
                f"#{hashtag} skipped: {len(used)} unique hashtags already queried in the last 7 days "
                f"(budget {self.options.weekly_hashtag_budget})"
            )
            return None
        hashtag_id = ledger.hashtag_id(hashtag)
        if hashtag_id is None:
            try:
                found = self.client.get(
                    "ig_hashtag_search", {"user_id": self.ig_user_id, "q": hashtag}, telemetry=telemetry
                )
            except BadRequest as exc:
                telemetry.notes.append(f"#{hashtag} skipped: {exc}")
                return None
            data = found.get("data")
            if not isinstance(data, list) or not data or not isinstance(data[0], Mapping):
                telemetry.notes.append(f"#{hashtag} skipped: Instagram knows no such hashtag")
                return None
            if not isinstance(data[0].get("id"), str | int) or isinstance(data[0].get("id"), bool):
                telemetry.notes.append(f"#{hashtag} skipped: Instagram knows no such hashtag")
                return None
            hashtag_id = str(data[0]["id"])
            ledger.remember_hashtag_id(hashtag, hashtag_id)
        ledger.record_query(self.ig_user_id, hashtag, now)
        return hashtag_id
