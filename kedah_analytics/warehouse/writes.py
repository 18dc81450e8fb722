"""What an asset asks the warehouse to write, stated by the asset itself.

Every asset stored in PostgreSQL returns one of these to the IO manager. The write mode, the merge
key, the cursors to save in the same transaction and the run's partitions (a :class:`RunScope`,
parsed once) travel in the object, typed, rather than in ``DataFrame.attrs`` (which one pandas
operation drops silently) or in a metadata label. A partitioned asset that did not need its
partitions itself leaves ``scope`` out, and the IO manager parses them, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, TypeAlias

from kedah_analytics.warehouse.scope import PartitionFilter, RunScope

if TYPE_CHECKING:
    import pandas as pd

# The figures of a set of rows (posts, spam posts, places with posts, ...): recorded on each
# partition for that partition's own rows, and the numbers summed under run_* names for a ranged
# run. A list or a mapping (the partition's top places, its alerts by kind) shows as JSON.
Describe: TypeAlias = Callable[["pd.DataFrame"], Mapping[str, Any]]


@dataclass(frozen=True)
class ReplaceRows:
    """Replace exactly the asset's partitions of its table with ``rows``, in one transaction.

    ``only`` narrows the replaced rows to a subset of the run's partitions (an account that failed,
    or a day Google Trends gave nothing for, keeps what was stored before)."""

    rows: pd.DataFrame
    scope: RunScope | None = None
    only: PartitionFilter | None = None
    describe: Describe | None = None


@dataclass(frozen=True)
class ReplaceChunks:
    """Replace the run's partitions chunk by chunk (a few days at a time), each chunk in its own
    transaction, so a year-long run holds one chunk of rows in memory, not the year.

    ``chunks`` yields ``(days, rows)``: some days of the run and their rows; the IO manager
    replaces the run's partitions on those days in one transaction (and a day never yielded is
    left as it was). It is consumed lazily, after the asset returns. ``describe`` gives the
    figures of a set of rows (posts, spam posts, ...) recorded per partition and summed for the run."""

    chunks: Iterable[tuple[tuple[date, ...], pd.DataFrame]]
    scope: RunScope | None = None
    describe: Describe | None = None
    # Run-wide figures known only once every chunk is written (a classifier's API telemetry).
    finish: Callable[[], Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class MergeChunk:
    """One transaction of a :class:`MergeChunks` write: one platform's rows on some days of the run.

    ``cursors`` are the ``provider``'s cursors as they stand once these rows are stored: saved in
    the transaction that stores the rows, so a cursor never moves past posts that were not stored."""

    platform: str
    days: tuple[date, ...]
    rows: pd.DataFrame
    provider: str
    cursors: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class MergeChunks:
    """Merge on ``key`` chunk by chunk (a platform and a few days at a time), each chunk in its own
    transaction, so a year-long run of a raw table holds one chunk of rows in memory, not the year.

    Each chunk is merged (nothing deleted, demo rows never mixed with real ones, its cursors saved
    with its rows) into the run's partitions of its platform and days.
    ``chunks`` is consumed lazily, after the asset returns; a chunk that fails leaves the chunks
    before it stored and the ones after it unwritten. ``run_metadata`` gives the run's own
    metadata (providers, API calls...) once every chunk is written, under the names it gives."""

    chunks: Iterable[MergeChunk]
    key: tuple[str, ...]
    scope: RunScope | None = None
    describe: Describe | None = None
    run_metadata: Callable[[], Mapping[str, Any]] | None = None


TableWrite = ReplaceRows | ReplaceChunks | MergeChunks
