"""Data-quality checks on warehouse tables, as plain functions returning (passed, details)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from kedah_analytics.domain import TIMEZONE_NAME


@dataclass
class CheckOutcome:
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)


def _row(conn: psycopg.Connection, query: Any, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row an aggregate query returns."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise RuntimeError("an aggregate query returned no row")
    return tuple(row)


def _table(name: str) -> sql.Composed:
    return sql.SQL("kedah.{}").format(sql.Identifier(name))


def duplicate_keys(conn: psycopg.Connection, table: str, key: Sequence[str]) -> CheckOutcome:
    """No two rows share ``key``."""
    cols = sql.SQL(", ").join(sql.Identifier(k) for k in key)
    query = sql.SQL(
        "SELECT count(*), coalesce(sum(n), 0) FROM (SELECT count(*) AS n FROM {} GROUP BY {} HAVING count(*) > 1) d"
    ).format(_table(table), cols)
    keys, rows = _row(conn, query)
    return CheckOutcome(keys == 0, {"duplicated_keys": keys, "rows_with_duplicated_keys": int(rows)})


def raw_posts_required_fields(conn: psycopg.Connection) -> CheckOutcome:
    """Text present (withheld posts have none), counts non-negative, and each post filed under the
    Kedah day it was created."""
    row = _row(
        conn,
        """SELECT count(*) FILTER (WHERE btrim(text) = '' AND NOT is_withheld),
                  count(*) FILTER (WHERE least(like_count, comment_count, share_count, view_count) < 0),
                  count(*) FILTER (WHERE date <> (created_at AT TIME ZONE %s)::date),
                  count(*)
           FROM kedah.raw_posts""",
        (TIMEZONE_NAME,),
    )
    empty, negative, misfiled, total = row
    return CheckOutcome(
        empty == 0 and negative == 0 and misfiled == 0,
        {"empty_text": empty, "negative_counts": negative, "filed_under_wrong_day": misfiled, "rows": total},
    )


def classified_scores_in_range(conn: psycopg.Connection) -> CheckOutcome:
    """Sentiment score in -1..1, confidence and spam score in 0..1, known labels, rates >= 0."""
    row = _row(
        conn,
        """SELECT count(*) FILTER (WHERE sentiment_score NOT BETWEEN -1 AND 1),
                  count(*) FILTER (WHERE sentiment_confidence NOT BETWEEN 0 AND 1),
                  count(*) FILTER (WHERE spam_score NOT BETWEEN 0 AND 1),
                  count(*) FILTER (WHERE sentiment_label NOT IN ('positive', 'neutral', 'negative')),
                  count(*) FILTER (WHERE engagement_rate < 0
                                      OR (engagement_rate IS NULL) <> (engagement_denominator IS NULL)),
                  count(*)
           FROM kedah.classified_posts""",
    )
    score, confidence, spam, label, rate, total = row
    return CheckOutcome(
        score + confidence + spam + label + rate == 0,
        {"sentiment_score_out_of_range": score, "confidence_out_of_range": confidence,
         "spam_score_out_of_range": spam, "unknown_label": label, "bad_engagement_rate": rate, "rows": total},
    )  # fmt: skip


def place_link_share(conn: psycopg.Connection, minimum: float = 0.5, days: int = 7) -> CheckOutcome:
    """The share of non-spam posts of the last ``days`` stored days that is linked to a place."""
    linked, total = _row(
        conn,
        """SELECT count(*) FILTER (WHERE place_id IS NOT NULL), count(*)
           FROM kedah.classified_posts
           WHERE NOT is_spam AND date > (SELECT max(date) FROM kedah.classified_posts) - %s""",
        (days,),
    )
    share = linked / total if total else None
    return CheckOutcome(
        share is None or share >= minimum,
        {"linked_share": round(share, 4) if share is not None else None, "posts": total, "minimum": minimum},
    )


def place_metrics_consistent(conn: psycopg.Connection) -> CheckOutcome:
    """Sentiment counts add up to posts, means in -1..1, no negative totals."""
    bad_sum, bad_mean, negative = _row(
        conn,
        """SELECT count(*) FILTER (WHERE positive + neutral + negative <> posts),
                  count(*) FILTER (WHERE sentiment_mean NOT BETWEEN -1 AND 1),
                  count(*) FILTER (WHERE least(posts, likes, comments, shares, views, engagement) < 0)
           FROM kedah.place_daily_metrics""",
    )
    return CheckOutcome(
        bad_sum + bad_mean + negative == 0,
        {
            "sentiment_counts_not_adding_up": bad_sum,
            "mean_out_of_range": bad_mean,
            "negative_totals": negative,
        },
    )
