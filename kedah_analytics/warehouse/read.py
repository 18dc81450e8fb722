"""Reading the warehouse: a table's rows in some partitions, counted or as a DataFrame, and an
input read one day at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg import sql

from kedah_analytics.warehouse.columns import qualified, table_columns
from kedah_analytics.warehouse.connection import connect
from kedah_analytics.warehouse.scope import PartitionFilter, RunScope

if TYPE_CHECKING:
    import pandas as pd


def read_table(
    conn: psycopg.Connection,
    table: str,
    partitions: PartitionFilter | None = None,
    columns: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of ``kedah.<table>`` in ``partitions`` (all rows when None) as a DataFrame."""
    names = list(columns) if columns else [c.name for c in table_columns(conn, table)]
    query = sql.SQL("SELECT {} FROM {}").format(
        sql.SQL(", ").join(sql.Identifier(n) for n in names), qualified(table)
    )
    params: list[Any] = []
    if partitions is not None:
        condition, params = partitions.where()
        query = sql.SQL("{} WHERE {}").format(query, condition)
    with conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=names)


def count_rows(conn: psycopg.Connection, table: str, partitions: PartitionFilter | None = None) -> int:
    """Rows of ``kedah.<table>`` in ``partitions`` (all rows when None)."""
    query = sql.SQL("SELECT count(*) FROM {}").format(qualified(table))
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
        cols=cols, table=qualified(table), cond=condition
    )
    found = {tuple(row[:-1]): int(row[-1]) for row in conn.execute(query, params).fetchall()}
    return {value: found.get(value, 0) for value in partitions.values}


@dataclass(frozen=True)
class DailyRows:
    """An input read one day at a time, so a ranged run holds one day of rows, not the range.

    The IO manager hands this to an asset that annotates its input with it (instead of a
    DataFrame); ``by_day`` opens its own short connection per day. ``scope`` is the input's
    partitions that the run reads."""

    url: str
    table: str
    scope: RunScope | None

    def by_day(self) -> Iterator[tuple[date, pd.DataFrame]]:
        if self.scope is None:
            raise ValueError(f"{self.table}: reading by day needs a partitioned input")
        for day in self.scope.days():
            with connect(self.url) as conn:
                rows = read_table(conn, self.table, self.scope.on_days([day]).rows)
            yield day, rows


def read_days(
    conn: psycopg.Connection, table: str, first: date, last: date, columns: Sequence[str]
) -> pd.DataFrame:
    """Rows of ``kedah.<table>`` dated ``first``..``last`` on every platform (a fixed window around a
    day that does not depend on which partitions a run holds)."""
    query = sql.SQL("SELECT {} FROM {} WHERE date BETWEEN %s AND %s").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns), qualified(table)
    )
    rows = conn.execute(query, (first, last)).fetchall()
    import pandas as pd

    return pd.DataFrame.from_records(rows, columns=list(columns))
