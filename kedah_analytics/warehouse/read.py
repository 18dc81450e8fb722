"""Reading the warehouse: a table's rows in some partitions, counted or as a DataFrame, and an
input read a chunk of days at a time."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
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

TIMESTAMPTZ = "timestamp with time zone"
EPOCH_US = "(extract(epoch FROM {0}) * 1000000)::bigint AS {0}"


def read_table(
    conn: psycopg.Connection,
    table: str,
    partitions: PartitionFilter | None = None,
    columns: Sequence[str] | None = None,
    also: PartitionFilter | None = None,
    omit: Collection[str] = (),
) -> pd.DataFrame:
    """Rows of ``kedah.<table>`` in ``partitions`` (all rows when None) as a DataFrame: ``columns``
    (default all) without those in ``omit``; with ``also``, only the rows whose values of its
    columns are among its values too."""
    described = table_columns(conn, table)
    names = [n for n in (list(columns) if columns else [c.name for c in described]) if n not in omit]
    # A timestamptz column comes as microseconds since 1970, converted by pandas at once: as
    # datetime objects, pandas spent more on their conversion than the read itself.
    timestamps = {c.name for c in described if c.type == TIMESTAMPTZ}
    stamps = [n for n in names if n in timestamps]
    selected = [
        sql.SQL(EPOCH_US).format(sql.Identifier(n)) if n in stamps else sql.Identifier(n) for n in names
    ]
    query = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(selected), qualified(table))
    params: list[Any] = []
    conditions = []
    for condition_of in (partitions, also):
        if condition_of is not None:
            condition, values = condition_of.where()
            conditions.append(condition)
            params += values
    if conditions:
        query = sql.SQL("{} WHERE {}").format(query, sql.SQL(" AND ").join(conditions))
    with conn.cursor() as cur:
        cur.execute(query, params)
        rows = cur.fetchall()
    import pandas as pd

    frame = pd.DataFrame.from_records(rows, columns=names)
    for name in stamps:
        # A column of NULLs alone stays one of None, as psycopg's rows gave it.
        if frame[name].notna().any():
            utc = pd.to_datetime(frame[name], unit="us", utc=True)
            # The zone psycopg gives its datetimes: the session's.
            frame[name] = utc.dt.tz_convert(conn.info.timezone)
    return frame


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
    """An input read a chunk of days at a time, so a ranged run holds a chunk of rows, not the range.

    The IO manager hands this to an asset that annotates its input with it (instead of a
    DataFrame); each read opens its own short connection. ``scope`` is the input's partitions that
    the run reads (for an input with a look-back mapping, the run's days and the days before)."""

    url: str
    table: str
    scope: RunScope | None

    def _scope(self) -> RunScope:
        if self.scope is None:
            raise ValueError(f"{self.table}: reading by day needs a partitioned input")
        return self.scope

    def days(self) -> list[date]:
        """The input's days, in order."""
        return self._scope().days()

    def read(
        self, first: date, last: date, omit: Collection[str] = (), columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """The input's rows dated ``first``..``last`` (only its partitions): ``columns`` (default
        all), without the columns ``omit`` (a raw post's payload, which nothing derived reads)."""
        scope = self._scope()
        days = [d for d in scope.days() if first <= d <= last]
        with connect(self.url) as conn:
            return read_table(conn, self.table, scope.on_days(days).rows, columns, omit=omit)

    def read_posts(
        self, first: date, last: date, posts: Iterable[tuple[str, str]], columns: Sequence[str]
    ) -> pd.DataFrame:
        """:meth:`read`'s rows that are among ``posts`` ((platform, post_id) pairs): a handful of
        a chunk's posts without reading all of them (the top posts' texts)."""
        wanted = tuple(dict.fromkeys((str(p), str(i)) for p, i in posts))
        if not wanted:
            return _empty(columns)
        scope = self._scope()
        days = [d for d in scope.days() if first <= d <= last]
        chosen = PartitionFilter(("platform", "post_id"), wanted)
        with connect(self.url) as conn:
            return read_table(conn, self.table, scope.on_days(days).rows, columns, also=chosen)

    def by_chunk(
        self, days_per_chunk: int = 7, omit: Collection[str] = (), columns: Sequence[str] | None = None
    ) -> Iterator[tuple[tuple[date, ...], pd.DataFrame]]:
        """The input's days in chunks of ``days_per_chunk`` consecutive days, each with its rows
        (``columns``, default all, without ``omit``)."""
        for chunk in day_chunks(self.days(), days_per_chunk):
            yield chunk, self.read(chunk[0], chunk[-1], omit, columns)

    def by_day(self) -> Iterator[tuple[date, pd.DataFrame]]:
        for (day,), rows in self.by_chunk(1):
            yield day, rows


def day_chunks(days: Iterable[date], days_per_chunk: int) -> Iterator[tuple[date, ...]]:
    """``days`` (sorted) in runs of at most ``days_per_chunk`` days that span at most that many
    calendar days, so a chunk's look-back window is bounded however sparse the days are."""
    if days_per_chunk < 1:
        raise ValueError("a chunk holds at least one day")
    chunk: list[date] = []
    for day in sorted(set(days)):
        if chunk and (day - chunk[0]).days >= days_per_chunk:
            yield tuple(chunk)
            chunk = []
        chunk.append(day)
    if chunk:
        yield tuple(chunk)


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


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(columns=list(columns))
