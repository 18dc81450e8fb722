"""What an asset asks the warehouse to write, stated by the asset itself.

Every asset stored in PostgreSQL returns one of these to the IO manager. The write mode, the merge
key and the cursors to save in the same transaction travel in the object, typed, rather than in
``DataFrame.attrs`` (which one pandas operation drops silently) or in a metadata label.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from kedah_analytics.warehouse.load import PartitionFilter

# The figures of a set of rows (posts, spam posts, places with posts, ...): recorded on each
# partition for that partition's own rows, and summed under run_* names for a ranged run.
Describe = Callable[[pd.DataFrame], Mapping[str, int | float]]


@dataclass(frozen=True)
class ReplaceRows:
    """Replace exactly the asset's partitions of its table with ``rows``, in one transaction.

    ``only`` narrows the replaced rows to a subset of the run's partitions (an account that failed,
    or a day Google Trends gave nothing for, keeps what was stored before)."""

    rows: pd.DataFrame
    only: PartitionFilter | None = None
    describe: Describe | None = None


@dataclass(frozen=True)
class MergeRows:
    """Merge ``rows`` on ``key``: new keys inserted, known keys updated, nothing deleted.

    Rows are merged platform by platform of the run; ``provider_by_platform`` names who gave each
    platform's rows (demo rows are never mixed with real ones). ``cursors`` (provider -> cursor
    key -> value) are saved in the same transaction, so a failed write never skips posts on the
    next poll."""

    rows: pd.DataFrame
    key: tuple[str, ...]
    provider_by_platform: Mapping[str, str]
    cursors: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    describe: Describe | None = None


@dataclass(frozen=True)
class ReplaceChunks:
    """Replace the run's partitions chunk by chunk (a day at a time), each chunk in its own
    transaction, so a year-long run holds one day of rows in memory, not the year.

    ``chunks`` yields ``(day, rows)``: a day of the run and its rows; the IO manager replaces the
    run's partitions on that day (and a day never yielded is left as it was). It is consumed
    lazily, after the asset returns. ``describe`` gives the figures of a set of rows
    (posts, spam posts, ...) recorded per partition and summed for the run."""

    chunks: Iterable[tuple[date, pd.DataFrame]]
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

    Each chunk is merged as :class:`MergeRows` merges (nothing deleted, demo rows never mixed with
    real ones, its cursors saved with its rows) into the run's partitions of its platform and days.
    ``chunks`` is consumed lazily, after the asset returns; a chunk that fails leaves the chunks
    before it stored and the ones after it unwritten. ``run_metadata`` gives the run's own
    metadata (providers, API calls...) once every chunk is written, under the names it gives."""

    chunks: Iterable[MergeChunk]
    key: tuple[str, ...]
    describe: Describe | None = None
    run_metadata: Callable[[], Mapping[str, Any]] | None = None


TableWrite = ReplaceRows | MergeRows | ReplaceChunks | MergeChunks
