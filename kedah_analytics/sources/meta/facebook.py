"""Facebook Page posts through the Graph API, for the Pages named in the tracking configuration.

Facebook offers no public keyword search: only Pages the token can read (Pages you manage, or any
Page with Page Public Content Access) are collected.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Unpack

from kedah_analytics.config.tracking import TrackingConfig
from kedah_analytics.domain import PostRecord, kedah_date_bounds
from kedah_analytics.sources.common.base import Exhausted, FetchResult, FetchTelemetry, check_platform
from kedah_analytics.sources.common.pages import PageReader
from kedah_analytics.sources.common.parsing import (
    int_or_none,
    item_id,
    json_object,
    optional_str,
    optional_text,
    post_time,
)
from kedah_analytics.sources.common.posts import Counts, written_post
from kedah_analytics.sources.common.secrets import Secret
from kedah_analytics.sources.meta.graph import GraphApiClient, GraphOptions, graph_client

PROVIDER = "facebook_graph_pages"
PLATFORM = "facebook"
POST_FIELDS = (
    "id,message,created_time,permalink_url,shares,"
    "reactions.summary(true).limit(0),comments.summary(true).limit(0)"
)


def _summary_total(edge: Any, name: str, counts: Counts) -> int | None:
    if isinstance(edge, Mapping) and isinstance(edge.get("summary"), Mapping):
        return counts(edge["summary"].get("total_count"), f"{name}.summary.total_count")
    return None


def page_post_to_post(item: Any, page: Mapping[str, Any]) -> PostRecord:
    """One ``/{page-id}/posts`` item. ``like_count`` is the total of all reactions. Raises
    :class:`BadValue` for what cannot be a row."""
    item = json_object(item, "post")
    post_id = item_id(item.get("id"), "post id")
    created_at = post_time(item.get("created_time"), "created_time")
    message = optional_text(item.get("message"), "message") or ""
    counts = Counts()
    reactions = _summary_total(item.get("reactions"), "reactions", counts)
    comments = _summary_total(item.get("comments"), "comments", counts)
    if isinstance(item.get("shares"), Mapping):
        shares = counts(item["shares"].get("count"), "shares.count")
    else:
        # The Graph API omits `shares` (which we asked for) on a post nobody shared; when the
        # summaries are missing too, the post was not readable in full and we do not guess.
        shares = 0 if reactions is not None else None
    page_id = page.get("id")
    return written_post(
        PLATFORM,
        PROVIDER,
        item,
        counts,
        post_id=post_id,
        created_at=created_at,
        text=message,
        author_id=str(page_id) if isinstance(page_id, str | int) and page_id else None,
        author_name=optional_str(page.get("name")),
        author_followers=int_or_none(page.get("followers_count")),
        url=optional_str(item.get("permalink_url")),
        like_count=reactions,
        comment_count=comments,
        share_count=shares,
    )


def read_page_posts(response: Any, page: Mapping[str, Any], reader: PageReader) -> None:
    """One ``/{page-id}/posts`` page into ``reader``."""
    reader.read_list_page(
        response,
        f"page {page.get('id')} posts",
        lambda i: page_post_to_post(i, page),
        item_where=f"page {page.get('id')}: ",
    )


class PageTokens:
    """Page access tokens obtained once per Page from the configured token, kept in memory only."""

    def __init__(self, client: GraphApiClient, *, exchange: bool):
        self.client = client
        self.exchange = exchange
        self._pages: dict[str, tuple[dict[str, Any], Secret | None]] = {}

    def page(self, page_id: str, telemetry: FetchTelemetry) -> tuple[dict[str, Any], Secret | None]:
        """The Page's public facts (id, name, followers) and its own token, if it has one for us."""
        if page_id not in self._pages:
            fields = "id,name,followers_count" + (",access_token" if self.exchange else "")
            info = self.client.get(page_id, {"fields": fields}, telemetry=telemetry)
            token = None
            raw_token = info.pop("access_token", None)
            if isinstance(raw_token, str) and raw_token:
                token = Secret(raw_token, self.client.token_env_var)
                self.client.remember_secret(token)
            self._pages[page_id] = (info, token)
        return self._pages[page_id]


class FacebookPagesSource:
    """Posts of the configured Facebook Pages, any day (the Graph API keeps Page history)."""

    provider = PROVIDER
    polls_from_cursors = False

    def __init__(
        self,
        access_token: Secret,
        tracking: TrackingConfig,
        **graph: Unpack[GraphOptions],
    ):
        self.options = tracking.facebook
        self.client = graph_client(access_token, tracking, graph)
        self.pages = PageTokens(self.client, exchange=self.options.exchange_page_tokens)
        self.clock = self.client.clock

    def __repr__(self) -> str:
        return f"FacebookPagesSource(pages={list(self.options.page_ids)})"

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        check_platform(self, platform, PLATFORM)
        telemetry = FetchTelemetry()
        wanted = sorted(set(days))
        reader = PageReader(PLATFORM, PROVIDER, wanted, telemetry)
        if not wanted:
            return FetchResult([], [], telemetry, PROVIDER)
        if not self.options.page_ids:
            telemetry.notes.append("no Facebook Page ids configured (facebook.page_ids); nothing to fetch")
            return FetchResult([], [], telemetry, PROVIDER)
        since, _ = kedah_date_bounds(wanted[0])
        _, until = kedah_date_bounds(wanted[-1])
        telemetry.details["graph_api_version"] = self.client.version
        try:
            for page_id in self.options.page_ids:
                self._read_page(page_id, since, until, reader)
        except Exhausted as exc:
            exc.partial = reader.result()  # the posts read before the rate limit ran out
            raise
        return reader.result()

    def _read_page(self, page_id: str, since: datetime, until: datetime, reader: PageReader) -> None:
        page, page_token = self.pages.page(page_id, reader.telemetry)
        page.setdefault("id", page_id)
        params = {"fields": POST_FIELDS, "since": _unix(since), "until": _unix(until), "limit": 100}
        for response in self.client.iter_pages(
            f"{page_id}/posts",
            params,
            max_pages=self.options.max_pages_per_page,
            telemetry=reader.telemetry,
            access_token=page_token,
        ):
            read_page_posts(response, page, reader)


def _unix(moment: datetime) -> int:
    return int(moment.timestamp())
