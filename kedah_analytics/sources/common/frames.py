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


def posts_frame(
    posts: Sequence[PostRecord], fetched_at: datetime, days: Sequence[date]
) -> tuple[pd.DataFrame, int]:
    """Raw rows for the posts created on ``days``, and how many posts fell outside them."""
    wanted = set(days)
    rows = []
    outside = 0
    for p in posts:
        day = kedah_date(p.created_at)
        if day not in wanted:
            outside += 1
            continue
        rows.append(
            {
                "platform": p.platform,
                "post_id": p.post_id,
                "date": day,
                "created_at": p.created_at,
                "text": p.text,
                "author_id": p.author_id,
                "author_name": p.author_name,
                "author_followers": p.author_followers,
                "url": p.url,
                "hashtags": list(p.hashtags),
                "like_count": p.like_count,
                "comment_count": p.comment_count,
                "share_count": p.share_count,
                "view_count": p.view_count,
                "lang": p.lang,
                "provider": p.provider,
                "first_seen_at": fetched_at,
                "fetched_at": fetched_at,
                # As screened (sanitize.CleanJsonObject): the COPY then need not clean it again.
                "payload": p.payload if isinstance(p.payload, dict) else dict(p.payload),
                "is_withheld": p.is_withheld,
                "withheld_in": list(p.withheld_in),
                "earlier_post_ids": list(p.earlier_post_ids),
                "quoted_post_id": p.quoted_post_id,
            }
        )
    import pandas as pd

    frame = pd.DataFrame(rows, columns=RAW_COLUMNS)
    for column in ("like_count", "comment_count", "share_count", "view_count", "author_followers"):
        # Straight from the Python ints: a column inferred as float64 first would round counts
        # above 2**53 and then refuse to become Int64.
        values: list[Any] = [row[column] for row in rows]
        frame[column] = pd.array(values, dtype=pd.Int64Dtype())
    return frame, outside
