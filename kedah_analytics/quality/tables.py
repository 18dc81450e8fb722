"""Data-quality checks on warehouse tables, as plain functions returning (passed, details)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from kedah_analytics.domain import TIMEZONE_NAME
from kedah_analytics.warehouse.scope import PartitionFilter


@dataclass
class CheckOutcome:
    passed: bool
    details: dict[str, Any] = field(default_factory=dict)


def aggregate_row(conn: psycopg.Connection, query: Any, params: Sequence[Any] = ()) -> tuple[Any, ...]:
    """The one row an aggregate query returns."""
    row = conn.execute(query, params).fetchone()
    if row is None:
        raise RuntimeError("an aggregate query returned no row")
    return tuple(row)


def _table(name: str) -> sql.Composed:
    return sql.SQL("kedah.{}").format(sql.Identifier(name))


def _scope(partitions: PartitionFilter | None) -> tuple[sql.Composable, list[Any]]:
    """The SQL condition selecting the checked partitions (every row when None)."""
    if partitions is None:
        return sql.SQL("TRUE"), []
    return partitions.where()


def _scoped(query: str, table: str, partitions: PartitionFilter | None) -> tuple[sql.Composed, list[Any]]:
    """``query`` with ``{table}`` and ``{scope}`` filled in, and the scope's parameters."""
    condition, params = _scope(partitions)
    return sql.SQL(query).format(table=_table(table), scope=condition), params


def duplicate_keys(
    conn: psycopg.Connection, table: str, key: Sequence[str], partitions: PartitionFilter | None = None
) -> CheckOutcome:
    """No two rows of the checked partitions share ``key``."""
    condition, params = _scope(partitions)
    query = sql.SQL(
        "SELECT count(*), coalesce(sum(n), 0) FROM "
        "(SELECT count(*) AS n FROM {} WHERE {} GROUP BY {} HAVING count(*) > 1) d"
    ).format(_table(table), condition, sql.SQL(", ").join(sql.Identifier(k) for k in key))
    keys, rows = aggregate_row(conn, query, params)
    return CheckOutcome(keys == 0, {"duplicated_keys": keys, "rows_with_duplicated_keys": int(rows)})


def rows_present(
    conn: psycopg.Connection, table: str, partitions: PartitionFilter | None, why_empty: str = ""
) -> CheckOutcome:
    """Every checked partition holds at least one row; the empty ones are named."""
    if partitions is None:
        (total,) = aggregate_row(conn, sql.SQL("SELECT count(*) FROM {}").format(_table(table)))
        return CheckOutcome(total > 0, {"rows": total})
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in partitions.columns)
    condition, params = partitions.where()
    found = {
        tuple(r)
        for r in conn.execute(
            sql.SQL("SELECT DISTINCT {} FROM {} WHERE {}").format(cols, _table(table), condition), params
        ).fetchall()
    }
    empty = [v for v in partitions.values if tuple(v) not in found]
    details: dict[str, Any] = {"partitions": len(partitions), "empty_partitions": [str(v[0]) if len(v) == 1
                                                                                 else "|".join(map(str, v))
                                                                                 for v in empty][:50]}  # fmt: skip
    if empty and why_empty:
        details["why"] = why_empty
    return CheckOutcome(not empty, details)


def raw_posts_required_fields(
    conn: psycopg.Connection, partitions: PartitionFilter | None = None
) -> CheckOutcome:
    """Text present (withheld posts have none), counts non-negative, and each post filed under the
    Kedah day it was created."""
    query, params = _scoped(
        """SELECT count(*) FILTER (WHERE btrim(text) = '' AND NOT is_withheld),
                  count(*) FILTER (WHERE least(like_count, comment_count, share_count, view_count) < 0),
                  count(*) FILTER (WHERE date <> (created_at AT TIME ZONE %s)::date),
                  count(*)
           FROM {table} WHERE {scope}""",
        "raw_posts",
        partitions,
    )
    empty, negative, misfiled, total = aggregate_row(conn, query, [TIMEZONE_NAME, *params])
    return CheckOutcome(
        empty == 0 and negative == 0 and misfiled == 0,
        {"empty_text": empty, "negative_counts": negative, "filed_under_wrong_day": misfiled, "rows": total},
    )


def classified_scores_in_range(
    conn: psycopg.Connection, partitions: PartitionFilter | None = None
) -> CheckOutcome:
    """Sentiment score in -1..1, confidence and spam score in 0..1, known labels, rates >= 0."""
    query, params = _scoped(
        """SELECT count(*) FILTER (WHERE sentiment_score NOT BETWEEN -1 AND 1),
                  count(*) FILTER (WHERE sentiment_confidence NOT BETWEEN 0 AND 1),
                  count(*) FILTER (WHERE spam_score NOT BETWEEN 0 AND 1),
                  count(*) FILTER (WHERE sentiment_label NOT IN ('positive', 'neutral', 'negative')),
                  count(*) FILTER (WHERE engagement_rate < 0
                                      OR (engagement_rate IS NULL) <> (engagement_denominator IS NULL)),
                  count(*)
           FROM {table} WHERE {scope}""",
        "classified_posts",
        partitions,
    )
    score, confidence, spam, label, rate, total = aggregate_row(conn, query, params)
    return CheckOutcome(
        score + confidence + spam + label + rate == 0,
        {"sentiment_score_out_of_range": score, "confidence_out_of_range": confidence,
         "spam_score_out_of_range": spam, "unknown_label": label, "bad_engagement_rate": rate, "rows": total},
    )  # fmt: skip


def place_link_share(
    conn: psycopg.Connection, minimum: float = 0.5, days: int = 7, partitions: PartitionFilter | None = None
) -> CheckOutcome:
    """The share of non-spam posts linked to a place: in the checked partitions, or (unscoped) in
    the last ``days`` stored days."""
    if partitions is not None:
        query, params = _scoped(
            "SELECT count(*) FILTER (WHERE place_id IS NOT NULL), count(*) FROM {table} "
            "WHERE NOT is_spam AND {scope}",
            "classified_posts",
            partitions,
        )
        linked, total = aggregate_row(conn, query, params)
    else:
        linked, total = aggregate_row(
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


def place_metrics_consistent(
    conn: psycopg.Connection, partitions: PartitionFilter | None = None
) -> CheckOutcome:
    """Sentiment counts add up to posts, means in -1..1, no negative totals."""
    query, params = _scoped(
        """SELECT count(*) FILTER (WHERE positive + neutral + negative <> posts),
                  count(*) FILTER (WHERE sentiment_mean NOT BETWEEN -1 AND 1),
                  count(*) FILTER (WHERE least(posts, likes, comments, shares, views, engagement) < 0)
           FROM {table} WHERE {scope}""",
        "place_daily_metrics",
        partitions,
    )
    bad_sum, bad_mean, negative = aggregate_row(conn, query, params)
    return CheckOutcome(
        bad_sum + bad_mean + negative == 0,
        {
            "sentiment_counts_not_adding_up": bad_sum,
            "mean_out_of_range": bad_mean,
            "negative_totals": negative,
        },
    )


def values_in_range(
    conn: psycopg.Connection,
    table: str,
    bounds: dict[str, tuple[float | None, float | None]],
    partitions: PartitionFilter | None = None,
) -> CheckOutcome:
    """Each named column within its (low, high) bounds (None: unbounded); NULLs pass."""
    condition, params = _scope(partitions)
    parts = []
    for column, (low, high) in bounds.items():
        test = []
        if low is not None:
            test.append(sql.SQL("{} < {}").format(sql.Identifier(column), sql.Literal(low)))
        if high is not None:
            test.append(sql.SQL("{} > {}").format(sql.Identifier(column), sql.Literal(high)))
        parts.append(sql.SQL("count(*) FILTER (WHERE {})").format(sql.SQL(" OR ").join(test)))
    query = sql.SQL("SELECT {}, count(*) FROM {} WHERE {}").format(
        sql.SQL(", ").join(parts), _table(table), condition
    )
    *bad, total = aggregate_row(conn, query, params)
    details: dict[str, Any] = {f"{c}_out_of_range": int(n) for c, n in zip(bounds, bad, strict=True)}
    return CheckOutcome(sum(bad) == 0, {**details, "rows": total})
