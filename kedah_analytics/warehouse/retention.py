"""Keeping the warehouse's growth bounded without losing a post: provider payloads age out.

A raw post keeps every column it was stored with for good; only its ``payload`` (the provider's
JSON as collected, the largest part of a row) is emptied once the post is older than
``KEDAH_PAYLOAD_RETENTION_DAYS``. Nothing downstream reads the payload, so classified posts,
metrics and marts do not change. Pruning is one Kedah day at a time, each in its own transaction
that takes the same partition locks as a merge of that day, and idempotent: a second pass finds
nothing to prune. A post re-fetched later gets its payload back, and loses it again on the next
pass. PostgreSQL reuses the freed space for new rows (autovacuum); the files do not shrink.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from kedah_analytics.warehouse.connection import connect
from kedah_analytics.warehouse.locks import lock_keys, partition_lock_keys


@dataclass(frozen=True)
class PrunedPayloads:
    """What one pass did: the cut-off day, the days and posts whose payload it emptied, and the
    payload bytes (PostgreSQL's stored size) that were freed for reuse."""

    before: date | None
    days: int
    posts: int
    payload_bytes: int


def prune_payloads(url: str, keep_days: int, today: date) -> PrunedPayloads:
    """Empty the payload of raw posts created before ``today - keep_days`` (Kedah days); a
    ``keep_days`` of 0 keeps every payload."""
    if keep_days <= 0:
        return PrunedPayloads(None, 0, 0, 0)
    before = today - timedelta(days=keep_days)
    days = posts = freed = 0
    with connect(url) as conn:
        partitions = conn.execute(
            "SELECT DISTINCT date, platform FROM kedah.raw_posts"
            " WHERE date < %s AND payload IS NOT NULL ORDER BY date, platform",
            (before,),
        ).fetchall()
        conn.commit()
        for day in sorted({d for d, _ in partitions}):
            with conn.transaction(), conn.cursor() as cur:
                platforms = [(day, p) for d, p in partitions if d == day]
                lock_keys(cur, partition_lock_keys("raw_posts", ("date", "platform"), platforms))
                cur.execute(
                    "WITH pruned AS (SELECT platform, post_id, pg_column_size(payload) AS size"
                    "  FROM kedah.raw_posts WHERE date = %s AND payload IS NOT NULL FOR UPDATE)"
                    " UPDATE kedah.raw_posts r SET payload = NULL FROM pruned"
                    " WHERE r.platform = pruned.platform AND r.post_id = pruned.post_id"
                    " RETURNING pruned.size",
                    (day,),
                )
                sizes = [int(row[0] or 0) for row in cur.fetchall()]
            days += 1
            posts += len(sizes)
            freed += sum(sizes)
    return PrunedPayloads(before, days, posts, freed)
