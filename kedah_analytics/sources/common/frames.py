"""Normalized posts as the rows of ``kedah.raw_posts``."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from kedah_analytics.domain import PostRecord, kedah_date

if TYPE_CHECKING:
    import pandas as pd

RAW_COLUMNS = [
    "platform", "post_id", "date", "created_at", "text", "author_id", "author_name", "author_followers",
    "url", "hashtags", "like_count", "comment_count", "share_count", "view_count", "lang", "provider",
    "first_seen_at", "fetched_at", "payload", "is_withheld", "withheld_in", "earlier_post_ids", "quoted_post_id",
]  # fmt: skip
COUNT_COLUMNS = ("like_count", "comment_count", "share_count", "view_count", "author_followers")


def posts_frame(
    posts: Sequence[PostRecord], fetched_at: datetime, days: Sequence[date]
) -> tuple[pd.DataFrame, int]:
    """Raw rows for the posts created on ``days``, and how many posts fell outside them."""
    wanted = set(days)
    dates = [kedah_date(p.created_at) for p in posts]
    kept = [(p, day) for p, day in zip(posts, dates, strict=True) if day in wanted]
    import pandas as pd

    # Column by column: a dict per row cost twice as much for pandas to take apart again.
    columns: dict[str, list[Any]] = {
        "platform": [p.platform for p, _ in kept],
        "post_id": [p.post_id for p, _ in kept],
        "date": [day for _, day in kept],
        "created_at": [p.created_at for p, _ in kept],
        "text": [p.text for p, _ in kept],
        "author_id": [p.author_id for p, _ in kept],
        "author_name": [p.author_name for p, _ in kept],
        "author_followers": [p.author_followers for p, _ in kept],
        "url": [p.url for p, _ in kept],
        "hashtags": [list(p.hashtags) for p, _ in kept],
        "like_count": [p.like_count for p, _ in kept],
        "comment_count": [p.comment_count for p, _ in kept],
        "share_count": [p.share_count for p, _ in kept],
        "view_count": [p.view_count for p, _ in kept],
        "lang": [p.lang for p, _ in kept],
        "provider": [p.provider for p, _ in kept],
        "first_seen_at": [fetched_at] * len(kept),
        "fetched_at": [fetched_at] * len(kept),
        # As screened (sanitize.CleanJsonObject): the COPY then need not clean it again.
        "payload": [p.payload if isinstance(p.payload, dict) else dict(p.payload) for p, _ in kept],
        "is_withheld": [p.is_withheld for p, _ in kept],
        "withheld_in": [list(p.withheld_in) for p, _ in kept],
        "earlier_post_ids": [list(p.earlier_post_ids) for p, _ in kept],
        "quoted_post_id": [p.quoted_post_id for p, _ in kept],
    }
    # No rows: object columns, as a frame of no rows has always had.
    frame = pd.DataFrame(columns, columns=RAW_COLUMNS) if kept else pd.DataFrame(columns=RAW_COLUMNS)
    for column in COUNT_COLUMNS:
        # Straight from the Python ints: a column inferred as float64 first would round counts
        # above 2**53 and then refuse to become Int64.
        frame[column] = pd.array(columns[column], dtype=pd.Int64Dtype())
    return frame, len(posts) - len(kept)
