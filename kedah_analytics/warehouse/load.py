"""Partition-aware loads into the warehouse with COPY, each in one transaction.

Two write modes keep the data honest (DESIGN.md):

* :func:`replace_partitions` for derived tables: delete exactly the partitions being written and
  COPY the new rows, in one transaction, so a failure half-way leaves the previous rows intact.
* :func:`merge_rows` for raw tables: COPY into a staging table, then insert new keys and update
  known ones (straight into the table when its partitions hold nothing yet); nothing is deleted
  because a later fetch did not return it. Rows of the ``demo``
  provider never share a partition with real rows.

Identifiers come from code (``psycopg.sql.Identifier``), values are always parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.warehouse.columns import SCHEMA, copy_rows, prepare, qualified
from kedah_analytics.warehouse.locks import lock_keys, partition_lock_keys
from kedah_analytics.warehouse.scope import PartitionFilter, check_rows_inside, rows_by_partition

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["DemoMixError", "PartitionFilter", "WriteSummary", "merge_rows", "refuse_demo_over_real",
           "replace_partitions"]  # fmt: skip


class DemoMixError(RuntimeError):
    """Demo rows would be written into a partition that holds real rows (or the reverse)."""


def real_providers(
    conn: psycopg.Connection | psycopg.Cursor, table: str, partitions: PartitionFilter
) -> set[str]:
    """The providers other than ``demo`` whose rows ``partitions`` of ``kedah.<table>`` hold."""
    condition, params = partitions.where()
    query = sql.SQL("SELECT DISTINCT provider FROM {} WHERE provider <> %s AND {}").format(
        qualified(table), condition
    )
    return {row[0] for row in conn.execute(query, [DEMO_PROVIDER, *params]).fetchall()}


def refuse_demo_over_real(
    conn: psycopg.Connection | psycopg.Cursor, table: str, partitions: PartitionFilter, provider: str
) -> None:
    """The one rule for demo data: rows of the ``demo`` provider are never written into partitions
    that hold real rows. Raises :class:`DemoMixError` naming the real providers and the partitions."""
    if provider != DEMO_PROVIDER:
        return
    real = real_providers(conn, table, partitions)
    if real:
        raise DemoMixError(
            f"{SCHEMA}.{table} already holds real rows from {sorted(real)} in {partitions.describe()}; demo "
            "rows are never mixed with real ones. Configure that source's credentials again, or "
            "materialize partitions that hold no real data."
        )


@dataclass
class WriteSummary:
    """What a write changed; becomes the materialization's metadata."""

    table: str
    mode: str
    rows_written: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0
    duplicates_dropped: int = 0
    demo_rows_removed: int = 0
    partitions: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, other: WriteSummary) -> None:
        """Count another write of the same table into this one (a run's platforms)."""
        for name in ("rows_written", "inserted", "updated", "deleted", "duplicates_dropped",
                     "demo_rows_removed", "partitions"):  # fmt: skip
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for value, counts in other.extra.get("by_partition", {}).items():
            self.extra.setdefault("by_partition", {})[value] = counts

    def as_metadata(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "write_mode": self.mode,
            "rows_written": self.rows_written,
            "inserted": self.inserted,
            "updated": self.updated,
            "replaced_rows_deleted": self.deleted,
            "partitions_written": self.partitions,
        }
        if self.duplicates_dropped:
            data["duplicates_dropped"] = self.duplicates_dropped
        if self.demo_rows_removed:
            data["demo_rows_removed"] = self.demo_rows_removed
        return data


def lock_partitions(cur: psycopg.Cursor, table: str, partitions: PartitionFilter | None) -> int:
    """Serialize writers of the same partitions of ``table`` until the transaction ends (locks.py)."""
    if partitions is None:
        return lock_keys(cur, partition_lock_keys(table, (), ()))
    return lock_keys(cur, partition_lock_keys(table, partitions.columns, partitions.values))


def replace_partitions(
    conn: psycopg.Connection, table: str, df: pd.DataFrame, partitions: PartitionFilter | None
) -> WriteSummary:
    """Replace exactly ``partitions`` of ``table`` (the whole table when None) with ``df``.

    Rows of ``df`` outside ``partitions`` are an error: a derived asset writes only its own
    partitions. Delete and COPY share one transaction.
    """
    summary = WriteSummary(table=f"{SCHEMA}.{table}", mode="replace", partitions=len(partitions or ()))
    if partitions is not None and len(df):
        check_rows_inside(df, partitions)
    if partitions is not None and not len(partitions):
        return summary  # no partition to replace (every day kept its stored rows): nothing is touched
    with conn.transaction(), conn.cursor() as cur:
        lock_partitions(cur, table, partitions)
        if partitions is None:
            cur.execute(sql.SQL("DELETE FROM {}").format(qualified(table)))
        else:
            condition, params = partitions.where()
            cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(qualified(table), condition), params)
        summary.deleted = cur.rowcount
        columns, rows = prepare(conn, table, df)
        summary.rows_written = summary.inserted = copy_rows(cur, qualified(table), columns, rows)
    return summary


def merge_rows(
    conn: psycopg.Connection,
    table: str,
    df: pd.DataFrame,
    *,
    key: Sequence[str],
    partitions: PartitionFilter,
    provider: str,
    preserve: Sequence[str] = ("first_seen_at",),
) -> WriteSummary:
    """Insert new rows and update known ones (by ``key``); delete nothing a source stopped returning.

    ``provider`` names who gave the rows. Demo rows never share a partition with real rows: a
    real fetch removes the demo rows of its partitions, and a demo fetch into a partition that
    holds real rows raises :class:`DemoMixError`. Columns in ``preserve`` keep their first value.
    """
    summary = WriteSummary(table=f"{SCHEMA}.{table}", mode="merge", partitions=len(partitions))
    if len(df):
        check_rows_inside(df, partitions)
        if "provider" in df.columns and set(df["provider"].unique()) != {provider}:
            raise ValueError(
                f"rows name providers {sorted(df['provider'].unique())}, expected only {provider!r}"
            )
        before = len(df)
        df = df.drop_duplicates(subset=list(key), keep="last")
        summary.duplicates_dropped = before - len(df)
    condition, params = partitions.where()
    with conn.transaction(), conn.cursor() as cur:
        lock_partitions(cur, table, partitions)
        refuse_demo_over_real(cur, table, partitions, provider)
        if provider != DEMO_PROVIDER:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE provider = %s AND {}").format(qualified(table), condition),
                [DEMO_PROVIDER, *params],
            )
            summary.demo_rows_removed = cur.rowcount
        if not len(df):
            return summary
        if _copied_into_empty(conn, cur, table, df, partitions, condition, params, summary):
            return summary
        columns, rows = prepare(conn, table, df)
        cur.execute(
            sql.SQL("CREATE TEMP TABLE _stage (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                qualified(table)
            )
        )
        summary.rows_written = copy_rows(cur, sql.Identifier("_stage"), columns, rows)
        names = [c.name for c in columns]
        updates = [n for n in names if n not in key and n not in preserve]
        cur.execute(
            sql.SQL(
                "INSERT INTO {target} ({cols}) SELECT {cols} FROM _stage "
                "ON CONFLICT ({key}) DO UPDATE SET {updates} RETURNING (xmax = 0), {partition_cols}"
            ).format(
                target=qualified(table),
                cols=sql.SQL(", ").join(sql.Identifier(n) for n in names),
                key=sql.SQL(", ").join(sql.Identifier(k) for k in key),
                updates=sql.SQL(", ").join(
                    sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(n)) for n in updates
                ),
                partition_cols=sql.SQL(", ").join(sql.Identifier(c) for c in partitions.columns),
            )
        )
        returned = cur.fetchall()
        flags = [row[0] for row in returned]
        by_partition: dict[tuple[Any, ...], dict[str, int]] = {}
        for row in returned:
            counts = by_partition.setdefault(tuple(row[1:]), {"inserted": 0, "updated": 0})
            counts["inserted" if row[0] else "updated"] += 1
        summary.extra["by_partition"] = by_partition
        # ON COMMIT DROP waits for the outermost transaction; several merges may share one.
        cur.execute("DROP TABLE _stage")
        summary.inserted = sum(flags)
        summary.updated = len(flags) - summary.inserted
    return summary


def _copied_into_empty(
    conn: psycopg.Connection,
    cur: psycopg.Cursor,
    table: str,
    df: pd.DataFrame,
    partitions: PartitionFilter,
    condition: sql.Composable,
    params: list[Any],
    summary: WriteSummary,
) -> bool:
    """:func:`merge_rows`' rows COPYed straight into ``table`` when none of ``partitions`` holds a
    row yet (a first fetch of those days, a backfill): every row is then new, and the staging table
    and the ``INSERT .. ON CONFLICT`` cost as much again as the COPY. The partitions are locked
    (nobody else writes them until the transaction ends). A key already stored under another
    partition (a post whose date moved) makes the COPY fail: it is undone to its savepoint and
    False sends the rows through the merge. True when the rows are stored."""
    stored = cur.execute(
        sql.SQL("SELECT EXISTS (SELECT 1 FROM {} WHERE {})").format(qualified(table), condition), params
    ).fetchone()
    if stored is None or stored[0]:
        return False
    try:
        with conn.transaction():  # a savepoint
            columns, rows = prepare(conn, table, df)
            written = copy_rows(cur, qualified(table), columns, rows)
    except psycopg.errors.UniqueViolation:
        return False
    summary.rows_written = summary.inserted = written
    summary.extra["by_partition"] = {
        value: {"inserted": len(part), "updated": 0}
        for value, part in rows_by_partition(df, partitions).items()
        if len(part)
    }
    return True
