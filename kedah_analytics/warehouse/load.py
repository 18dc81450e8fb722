"""Partition-aware loads into the warehouse with COPY, each in one transaction.

Two write modes keep the data honest (DESIGN.md):

* :func:`replace_partitions` for derived tables: delete exactly the partitions being written and
  COPY the new rows, in one transaction, so a failure half-way leaves the previous rows intact.
* :func:`merge_rows` for raw tables: COPY into a staging table, then insert new keys and update
  known ones; nothing is deleted because a later fetch did not return it. Rows of the ``demo``
  provider never share a partition with real rows.

Identifiers come from code (``psycopg.sql.Identifier``), values are always parameters.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.warehouse.connection import connect
from kedah_analytics.warehouse.locks import lock_keys, partition_lock_keys
from kedah_analytics.warehouse.sanitize import clean_json, clean_text, storable_int

SCHEMA = "kedah"


class DemoMixError(RuntimeError):
    """Demo rows would be written into a partition that holds real rows (or the reverse)."""


@dataclass(frozen=True)
class PartitionFilter:
    """The partitions a write or read touches: tuples of values of the partition columns.

    ``PartitionFilter(("date", "platform"), ((date(2026, 11, 20), "twitter"),))`` is one
    date x platform partition; ``PartitionFilter(("date",), ((d,),))`` one daily partition.
    """

    columns: tuple[str, ...]
    values: tuple[tuple[Any, ...], ...]

    def where(self) -> tuple[sql.Composable, list[Any]]:
        """A SQL condition ``(c1, c2) IN (SELECT * FROM unnest(%s, %s))`` and its parameters."""
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in self.columns)
        params = (
            [list(column) for column in zip(*self.values, strict=True)]
            if self.values
            else [[] for _ in self.columns]
        )
        placeholders = sql.SQL(", ").join(
            sql.SQL("{}::{}[]").format(sql.Placeholder(), sql.SQL(_array_type(values))) for values in params
        )
        condition = sql.SQL("({}) IN (SELECT * FROM unnest({}))").format(cols, placeholders)
        return condition, params

    def __len__(self) -> int:
        return len(self.values)


def _array_type(values: list[Any]) -> str:
    """The SQL element type of a partition column's values (psycopg sends str as unknown)."""
    sample = next((v for v in values if v is not None), None)
    if isinstance(sample, datetime):
        return "timestamptz"
    if isinstance(sample, date):
        return "date"
    if isinstance(sample, bool):
        return "boolean"
    if isinstance(sample, int):
        return "bigint"
    return "text"


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


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # as format_type() prints it: text, bigint, text[], jsonb, ...
    not_null: bool


def table_columns(conn: psycopg.Connection, table: str) -> list[Column]:
    """The columns of ``kedah.<table>`` in table order."""
    rows = conn.execute(
        """SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull
           FROM pg_attribute a
           WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
           ORDER BY a.attnum""",
        (f"{SCHEMA}.{table}",),
    ).fetchall()
    if not rows:
        raise LookupError(f"table {SCHEMA}.{table} does not exist; run `kedah-analytics db migrate`")
    return [Column(name, type_, not_null) for name, type_, not_null in rows]


def _qualified(table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(table))


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _column_values(series: pd.Series, column: Column) -> list[Any]:
    """Python values for COPY: NaN/NaT/NA become NULL, arrays lists, jsonb wrapped."""
    if column.type.endswith("[]"):
        element_is_text = column.type == "text[]"
        return [
            None
            if not isinstance(v, list | tuple | np.ndarray) and _is_missing(v)
            else [_text(e) for e in v]
            if element_is_text
            else list(v)
            for v in series.tolist()
        ]
    if column.type == "jsonb":
        return [None if v is None else Jsonb(clean_json(v)[0]) for v in series.tolist()]
    if column.type == "text":
        return [None if _is_missing(v) else _text(v) for v in series.tolist()]
    if column.type == "date":
        return [
            None if _is_missing(v) else (v.date() if isinstance(v, pd.Timestamp) else v)
            for v in series.tolist()
        ]
    if column.type in ("bigint", "integer", "smallint"):
        return [None if _is_missing(v) else storable_int(v, column.name) for v in series.tolist()]
    if column.type in ("double precision", "real", "numeric"):
        return [None if _is_missing(v) else float(v) for v in series.tolist()]
    if column.type.startswith("timestamp"):
        return [
            None if _is_missing(v) else v.to_pydatetime() if isinstance(v, pd.Timestamp) else v
            for v in series.tolist()
        ]
    return [None if _is_missing(v) else v for v in series.tolist()]


def _text(value: Any) -> str | None:
    """Every text bound for PostgreSQL passes the sanitizer (NUL removed, lone surrogates replaced)."""
    if value is None:
        return None
    return clean_text(value if isinstance(value, str) else str(value))


def _prepare(conn: psycopg.Connection, table: str, df: pd.DataFrame) -> tuple[list[Column], Iterator[tuple]]:
    columns = {c.name: c for c in table_columns(conn, table)}
    unknown = [c for c in df.columns if c not in columns]
    if unknown:
        raise ValueError(f"{SCHEMA}.{table} has no column(s) {unknown}; known: {list(columns)}")
    used = [columns[c] for c in df.columns]
    values = [_column_values(df[c.name], c) for c in used]
    return used, zip(*values, strict=True)


def _copy(
    cur: psycopg.Cursor, target: sql.Composable, columns: Sequence[Column], rows: Iterable[tuple]
) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
        target, sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
    )
    count = 0
    with cur.copy(statement) as copy:
        copy.set_types([c.type for c in columns])
        for row in rows:
            copy.write_row(row)
            count += 1
    return count


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
        _check_rows_inside(df, partitions)
    with conn.transaction(), conn.cursor() as cur:
        lock_partitions(cur, table, partitions)
        if partitions is None:
            cur.execute(sql.SQL("DELETE FROM {}").format(_qualified(table)))
        else:
            condition, params = partitions.where()
            cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(_qualified(table), condition), params)
        summary.deleted = cur.rowcount
        columns, rows = _prepare(conn, table, df)
        summary.rows_written = summary.inserted = _copy(cur, _qualified(table), columns, rows)
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
        _check_rows_inside(df, partitions)
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
        cur.execute(
            sql.SQL("SELECT DISTINCT provider FROM {} WHERE {}").format(_qualified(table), condition), params
        )
        stored = {row[0] for row in cur.fetchall()}
        if provider == DEMO_PROVIDER and stored - {DEMO_PROVIDER}:
            raise DemoMixError(
                f"{SCHEMA}.{table} already holds real rows from {sorted(stored - {DEMO_PROVIDER})} in these "
                "partitions; demo rows are never mixed with real ones. Configure that platform's "
                "credentials, or materialize partitions that hold no real data."
            )
        if provider != DEMO_PROVIDER and DEMO_PROVIDER in stored:
            cur.execute(
                sql.SQL("DELETE FROM {} WHERE provider = %s AND {}").format(_qualified(table), condition),
                [DEMO_PROVIDER, *params],
            )
            summary.demo_rows_removed = cur.rowcount
        if not len(df):
            return summary
        columns, rows = _prepare(conn, table, df)
        cur.execute(
            sql.SQL("CREATE TEMP TABLE _stage (LIKE {} INCLUDING DEFAULTS) ON COMMIT DROP").format(
                _qualified(table)
            )
        )
        summary.rows_written = _copy(cur, sql.Identifier("_stage"), columns, rows)
        names = [c.name for c in columns]
        updates = [n for n in names if n not in key and n not in preserve]
        cur.execute(
            sql.SQL(
                "INSERT INTO {target} ({cols}) SELECT {cols} FROM _stage "
                "ON CONFLICT ({key}) DO UPDATE SET {updates} RETURNING (xmax = 0), {partition_cols}"
            ).format(
                target=_qualified(table),
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


def read_table(
    conn: psycopg.Connection,
    table: str,
    partitions: PartitionFilter | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``kedah.<table>`` in ``partitions`` (all rows when None) as a DataFrame."""
    names = list(columns) if columns else [c.name for c in table_columns(conn, table)]
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(n) for n in names), _qualified(table)
    )
    params: list[Any] = []
    if partitions is not None:
        condition, params = partitions.where()
        query = sql.SQL("{} WHERE {}").format(query, condition)
    with conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    return pd.DataFrame.from_records(rows, columns=names)


def count_rows(conn: psycopg.Connection, table: str, partitions: PartitionFilter | None = None) -> int:
    """Rows of ``kedah.<table>`` in ``partitions`` (all rows when None)."""
    query = sql.SQL("SELECT count(*) FROM {}").format(_qualified(table))
    params: list[Any] = []
    if partitions is not None:
        condition, params = partitions.where()
        query = sql.SQL("{} WHERE {}").format(query, condition)
    row = conn.execute(query, params).fetchone()
    return int(row[0]) if row else 0


def count_rows_by_partition(
    conn: psycopg.Connection, table: str, partitions: PartitionFilter
) -> dict[tuple[Any, ...], int]:
    """Rows of ``kedah.<table>`` stored in each of ``partitions`` (absent partitions count 0)."""
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in partitions.columns)
    condition, params = partitions.where()
    query = sql.SQL("SELECT {cols}, count(*) FROM {table} WHERE {cond} GROUP BY {cols}").format(
        cols=cols, table=_qualified(table), cond=condition
    )
    found = {tuple(row[:-1]): int(row[-1]) for row in conn.execute(query, params).fetchall()}
    return {value: found.get(value, 0) for value in partitions.values}


def rows_by_partition(df: pd.DataFrame, partitions: PartitionFilter) -> dict[tuple[Any, ...], pd.DataFrame]:
    """``df`` split by partition (every partition of ``partitions`` present, maybe empty)."""
    out = {value: df.iloc[0:0] for value in partitions.values}
    if not len(df) or any(c not in df.columns for c in partitions.columns):
        return out
    keys = [
        tuple(_normalise(v) for v in k)
        for k in df[list(partitions.columns)].itertuples(index=False, name=None)
    ]
    positions: dict[tuple[Any, ...], list[int]] = {}
    for i, key in enumerate(keys):
        positions.setdefault(key, []).append(i)
    for key, rows in positions.items():
        if key in out:
            out[key] = df.iloc[rows]
    return out


def narrow(partitions: PartitionFilter, column: str, value: Any) -> PartitionFilter:
    """The partitions of ``partitions`` whose ``column`` is ``value``."""
    index = partitions.columns.index(column)
    return PartitionFilter(
        partitions.columns, tuple(v for v in partitions.values if _normalise(v[index]) == value)
    )


def _check_rows_inside(df: pd.DataFrame, partitions: PartitionFilter) -> None:
    missing = [c for c in partitions.columns if c not in df.columns]
    if missing:
        raise ValueError(f"rows lack the partition column(s) {missing}")
    allowed = set(partitions.values)
    keys = df[list(partitions.columns)].itertuples(index=False, name=None)
    outside = {tuple(_normalise(v) for v in k) for k in keys} - allowed
    if outside:
        sample = sorted(outside, key=str)[:3]
        raise ValueError(
            f"{len(outside)} row partition(s) fall outside the partitions written, e.g. {sample}"
        )


def _normalise(value: Any) -> Any:
    return value.date() if isinstance(value, pd.Timestamp) else value


@dataclass(frozen=True)
class DailyRows:
    """An input read one day at a time, so a ranged run holds one day of rows, not the range.

    The IO manager hands this to an asset that annotates its input with it (instead of a
    DataFrame); ``by_day`` opens its own short connection per day."""

    url: str
    table: str
    partitions: PartitionFilter | None
    day_column: str = "date"
    columns: tuple[str, ...] | None = None

    def days(self) -> list[date]:
        if self.partitions is None:
            raise ValueError(f"{self.table}: reading by day needs a partitioned input")
        index = self.partitions.columns.index(self.day_column)
        return sorted({_normalise(v[index]) for v in self.partitions.values})

    def for_day(self, day: date) -> pd.DataFrame:
        """The input's rows on ``day`` (its other partition columns as the run asked for them)."""
        assert self.partitions is not None
        index = self.partitions.columns.index(self.day_column)
        subset = PartitionFilter(
            self.partitions.columns,
            tuple(v for v in self.partitions.values if _normalise(v[index]) == day),
        )
        with connect(self.url) as conn:
            return read_table(conn, self.table, subset, self.columns)

    def by_day(self) -> Iterator[tuple[date, pd.DataFrame]]:
        for day in self.days():
            yield day, self.for_day(day)

    def all(self) -> pd.DataFrame:
        """Every row at once (for small inputs, or tests)."""
        with connect(self.url) as conn:
            return read_table(conn, self.table, self.partitions, self.columns)


def read_days(
    conn: psycopg.Connection, table: str, first: date, last: date, columns: Sequence[str]
) -> pd.DataFrame:
    """Rows of ``kedah.<table>`` dated ``first``..``last`` on every platform (a fixed window around a
    day that does not depend on which partitions a run holds)."""
    query = sql.SQL("SELECT {} FROM {} WHERE date BETWEEN %s AND %s").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), _qualified(table)
    )
    rows = conn.execute(query, (first, last)).fetchall()
    return pd.DataFrame.from_records(rows, columns=list(columns))
