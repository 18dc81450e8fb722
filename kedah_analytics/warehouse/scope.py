"""Which rows a write or a read covers, and the partitions a run covers, parsed once from their keys.

A :class:`PartitionFilter` is a set of partitions as warehouse rows; a :class:`RunScope` is a run's
partition keys with the rows each names.

A run's partition keys (``2026-11-20|twitter``, ``2026-11-20``) are parsed here and nowhere else:
the asset that needs its days builds the scope and hands it to the IO manager inside its write
(``kedah_analytics.warehouse.writes``), and a check of the run's partitions builds its own the same
way. The Dagster side (which dimensions an asset has, which column each fills) is
``resources.run_scope``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from psycopg import sql

if TYPE_CHECKING:
    import pandas as pd


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

    def describe(self) -> str:
        """The partitions in words: ``2026-11-19 x instagram``, or how many and the first and last."""
        shown = [" x ".join(str(v) for v in value) for value in sorted(self.values, key=str)]
        if len(shown) <= 1:
            return shown[0] if shown else "no partitions"
        return f"{len(shown)} partitions ({shown[0]} .. {shown[-1]})"

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


@dataclass(frozen=True)
class Dimension:
    """A partition dimension as the warehouse sees it: the column its value fills, and how a key's
    part becomes that value (a day's key ``2026-11-20`` is the date; a platform's key is itself)."""

    column: str
    parse: Callable[[str], Any] = str


DAY_KEY = date.fromisoformat  # a daily or weekly partition key (format %Y-%m-%d) is its first day


@dataclass(frozen=True)
class RunScope:
    """The partitions a run covers: each key, and the row values of the partition it names.

    Built once per run step (:meth:`parse`), carried by the step's write to the IO manager, and
    narrowed rather than re-parsed (a day of a ranged run, a platform's chunk). ``day_column`` is
    the column that holds the partitions' day (``date``; ``week_start`` for a weekly table)."""

    keys: tuple[str, ...]
    rows: PartitionFilter
    day_column: str = "date"
    _key_by_value: dict[tuple[Any, ...], str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.keys) != len(self.rows.values):
            raise ValueError(f"{len(self.keys)} partition keys for {len(self.rows.values)} partitions")
        object.__setattr__(self, "_key_by_value", dict(zip(self.rows.values, self.keys, strict=True)))

    @classmethod
    def parse(
        cls, keys: Sequence[str], dimensions: Sequence[Dimension], day_column: str = "date"
    ) -> RunScope:
        """The scope of partition ``keys``; a multi-dimensional key joins its parts with ``|`` in the
        order of ``dimensions`` (Dagster's: by dimension name)."""
        if not dimensions:
            raise ValueError("a run scope needs at least one partition dimension")
        values = []
        for key in keys:
            parts = str(key).split("|") if len(dimensions) > 1 else [str(key)]
            if len(parts) != len(dimensions):
                raise ValueError(f"partition key {key!r} does not have {len(dimensions)} parts")
            values.append(tuple(d.parse(part) for d, part in zip(dimensions, parts, strict=True)))
        columns = tuple(d.column for d in dimensions)
        return cls(tuple(str(k) for k in keys), PartitionFilter(columns, tuple(values)), day_column)

    @property
    def columns(self) -> tuple[str, ...]:
        return self.rows.columns

    def __len__(self) -> int:
        return len(self.keys)

    def key_of(self, value: tuple[Any, ...]) -> str:
        """The partition key whose rows have the partition ``value``."""
        return self._key_by_value[value]

    def _index(self, column: str) -> int:
        if column not in self.rows.columns:
            raise ValueError(
                f"the run's partitions have no column {column!r} (only {list(self.rows.columns)})"
            )
        return self.rows.columns.index(column)

    def values_of(self, column: str) -> list[Any]:
        """The distinct values of ``column`` in the run's partitions, in order."""
        index = self._index(column)
        return sorted({value[index] for value in self.rows.values})

    def days(self) -> list[date]:
        """The run's days, in order."""
        return self.values_of(self.day_column)

    def days_by_platform(self) -> dict[str, list[date]]:
        """The days of each platform in a run of date x platform partitions."""
        return {
            platform: self.where("platform", [platform]).days() for platform in self.values_of("platform")
        }

    def where(self, column: str, values: Collection[Any]) -> RunScope:
        """The run's partitions whose ``column`` is one of ``values`` (a day, a platform, a chunk's days)."""
        index = self._index(column)
        wanted = {_normalise(v) for v in values}
        kept = [(k, v) for k, v in zip(self.keys, self.rows.values, strict=True) if v[index] in wanted]
        return RunScope(
            tuple(k for k, _ in kept),
            PartitionFilter(self.rows.columns, tuple(v for _, v in kept)),
            self.day_column,
        )

    def on_days(self, days: Collection[date]) -> RunScope:
        return self.where(self.day_column, days)

    def each(self) -> Iterator[tuple[str, PartitionFilter]]:
        """Each partition of the run on its own: its key and its rows (a check reports per partition)."""
        for key, value in zip(self.keys, self.rows.values, strict=True):
            yield key, PartitionFilter(self.rows.columns, (value,))


def _normalise(value: Any) -> Any:
    import pandas as pd

    return value.date() if isinstance(value, pd.Timestamp) else value


def rows_by_partition(df: pd.DataFrame, partitions: PartitionFilter) -> dict[tuple[Any, ...], pd.DataFrame]:
    """``df`` split by partition (every partition of ``partitions`` present, maybe empty), each
    partition's rows in their order in ``df``.

    The rows are put in partition order once and each partition is a slice of that, rather than a
    selection of ``df`` per partition: a year's run splits thousands of partitions."""
    import numpy as np

    out = {value: df.iloc[0:0] for value in partitions.values}
    if not len(df) or any(c not in df.columns for c in partitions.columns):
        return out
    positions: dict[tuple[Any, ...], list[np.ndarray]] = {}
    groups = df.groupby(list(partitions.columns), sort=False, dropna=False).indices
    for key, rows in groups.items():
        normalised = tuple(_normalise(v) for v in (key if isinstance(key, tuple) else (key,)))
        if normalised in out:
            positions.setdefault(normalised, []).append(rows)
    if not positions:
        return out
    held = {key: np.sort(np.concatenate(rows)) for key, rows in positions.items()}
    ordered = df.take(np.concatenate(list(held.values())))
    start = 0
    for key, rows in held.items():
        out[key] = ordered.iloc[start : start + len(rows)]
        start += len(rows)
    return out


def check_rows_inside(df: pd.DataFrame, partitions: PartitionFilter) -> None:
    """Rows of ``df`` outside ``partitions`` are an error: a write touches only its own partitions."""
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
