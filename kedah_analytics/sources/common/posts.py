"""One provider item as a :class:`PostRecord`, the parts every source of written posts fills the
same way: the item itself as the payload, the hashtags written in the text, and the counts that
had to be stored as NULL named in ``repaired``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypedDict, Unpack

from kedah_analytics.domain import PostRecord
from kedah_analytics.sources.common.parsing import count_or_null, hashtags_in


class Counts:
    """Reads one item's counts with :func:`count_or_null`: an unusable value becomes ``None`` and
    its field is kept in ``repaired``, so one absurd number never costs the post."""

    def __init__(self) -> None:
        self.repaired: list[str] = []

    def __call__(self, value: Any, name: str) -> int | None:
        return count_or_null(value, name, self.repaired)


class PostDetails(TypedDict, total=False):
    """What a provider may or may not give about a post (:class:`PostRecord` keeps ``None``)."""

    author_id: str | None
    author_name: str | None
    author_followers: int | None
    url: str | None
    like_count: int | None
    comment_count: int | None
    share_count: int | None
    view_count: int | None
    lang: str | None


def written_post(
    platform: str,
    provider: str,
    item: Mapping[str, Any],
    counts: Counts,
    *,
    post_id: str,
    created_at: datetime,
    text: str,
    **details: Unpack[PostDetails],
) -> PostRecord:
    """The post of ``item`` (kept as its payload), its hashtags those written in ``text``."""
    return PostRecord(
        platform=platform,
        provider=provider,
        post_id=post_id,
        created_at=created_at,
        text=text,
        hashtags=hashtags_in(text),
        payload=item,
        repaired=tuple(counts.repaired),
        **details,
    )
