"""The IO manager that writes assets into the warehouse, and reads them back as inputs.

It maps an asset to ``kedah.<asset name>`` and its partitions to columns (``resources.run_scope``).
Each asset returns a typed write (:class:`ReplaceRows`, or chunk by chunk :class:`ReplaceChunks`
and :class:`MergeChunks`) saying how its rows are stored and, where the asset parsed them, the
run's partitions; every write (every chunk) is one transaction with COPY.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import dagster as dg
import psycopg

from kedah_analytics.sources.common.failures import day_span
from kedah_analytics.transient import describe_error, is_transient
from kedah_analytics.warehouse import (
    MergeChunk,
    MergeChunks,
    ReplaceChunks,
    ReplaceRows,
    RunScope,
    TableWrite,
    WriteSummary,
    merge_rows,
    read_table,
    replace_partitions,
)
from kedah_analytics.warehouse.connection import connect
from kedah_analytics.warehouse.read import DailyRows
from kedah_analytics.warehouse.state import save_cursors
from resources.run_scope import input_scope, output_scope
from resources.warehouse import ensure_migrated
from resources.write_metadata import PartitionFigures, table_metadata, table_schema

if TYPE_CHECKING:
    import pandas as pd


class PostgresIOManager(dg.ConfigurableIOManager):
    """Stores each asset as table ``kedah.<asset>``, partition by partition.

    An asset returns a :class:`ReplaceRows`, a :class:`ReplaceChunks` or a :class:`MergeChunks`;
    which one is the asset's own statement of how its table is written. Inputs are read back as
    DataFrames, or as :class:`DailyRows` (read a chunk of days at a time) where the asset asks for that."""

    url: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        ensure_migrated(self.url)

    def handle_output(self, context: dg.OutputContext, obj: TableWrite) -> None:
        if not isinstance(obj, ReplaceRows | ReplaceChunks | MergeChunks):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}; assets stored in "
                "PostgreSQL return ReplaceRows(...), ReplaceChunks(...) or MergeChunks(...) (kedah_analytics.warehouse)"
            )
        table = context.asset_key.path[-1]
        # The rows of a chunked write are produced while it is written (a source is called, a
        # classifier runs): a failure here may be the asset's own, hence "materializing".
        with final_unless_transient(f"materializing kedah.{table}"), connect(self.url) as conn:
            scope = _scope(context, obj)
            if scope is None:
                if not isinstance(obj, ReplaceRows):
                    raise ValueError(f"{table}: chunked writes need a partitioned asset")
                summary = replace_partitions(conn, table, obj.rows, obj.only)
                context.add_output_metadata(table_metadata(conn, table, obj.rows, summary))
            else:
                _write(context, conn, table, obj, scope)

    def load_input(self, context: dg.InputContext) -> pd.DataFrame | DailyRows:
        table = context.asset_key.path[-1]
        scope = input_scope(context)
        if context.dagster_type.typing_type is DailyRows:
            return DailyRows(self.url, table, scope)
        with final_unless_transient(f"reading kedah.{table}"), connect(self.url) as conn:
            return read_table(conn, table, scope.rows if scope is not None else None)


def _scope(context: dg.OutputContext, obj: TableWrite) -> RunScope | None:
    """The run's partitions: as the asset parsed them into its write, else parsed here, once."""
    if obj.scope is None:
        return output_scope(context)
    if not context.has_asset_partitions or set(obj.scope.keys) != set(context.asset_partition_keys):
        raise ValueError(
            f"{context.asset_key.to_user_string()}: the write's scope ({len(obj.scope)} partition(s)) is not "
            "the run's partitions; build it with resources.run_scope.run_scope(context)"
        )
    return obj.scope


def _write(
    context: dg.OutputContext, conn: psycopg.Connection, table: str, obj: TableWrite, scope: RunScope
) -> None:
    """Write ``obj`` into the run's partitions ``scope``; record each partition's metadata and the run's."""
    figures = PartitionFigures(obj.describe)
    extra: dict[str, Any] = {}
    if isinstance(obj, ReplaceRows):
        summary = replace_partitions(conn, table, obj.rows, obj.only if obj.only is not None else scope.rows)
        figures.record(conn, table, scope, obj.rows)
    elif isinstance(obj, ReplaceChunks):
        summary = WriteSummary(table=f"kedah.{table}", mode="replace by chunk of days")
        with figures.kept_on_failure(context, table):
            for days, rows in obj.chunks:
                chunk_scope = scope.on_days(days)
                summary.add(replace_partitions(conn, table, rows, chunk_scope.rows))
                figures.record(conn, table, chunk_scope, rows)
        if obj.finish is not None:
            extra = {f"run_{k}": v for k, v in obj.finish().items()}
    else:
        summary = WriteSummary(table=f"kedah.{table}", mode="merge by chunk")
        with figures.kept_on_failure(context, table):
            for chunk in obj.chunks:
                chunk_scope = _chunk_scope(table, scope, chunk)
                written = _merge_chunk(conn, table, obj.key, chunk, chunk_scope)
                summary.add(written)
                figures.record(conn, table, chunk_scope, chunk.rows, written)
                context.log.info(
                    f"kedah.{table}: {chunk.platform} {day_span(chunk.days)} stored ({chunk.provider}): "
                    f"{written.inserted} new, {written.updated} updated"
                    + (f", {len(chunk.cursors)} cursor(s) saved" if chunk.cursors else "")
                )
        if obj.run_metadata is not None:
            extra = dict(obj.run_metadata())
    run = {f"run_{k}": v for k, v in summary.as_metadata().items() if k != "write_mode"}
    figures.publish(context, {"write_mode": summary.mode, **run, **extra, **table_schema(conn, table)})


@contextmanager
def final_unless_transient(what: str) -> Iterator[None]:
    """A failure inside is retried by the asset's policy only when transient (a lost connection, a
    deadlock); bad data, a constraint or a mistake in the code fail the same way every time, so
    they fail the step at once (the rule of ``assets.common.retries``, for the IO manager)."""
    try:
        yield
    except dg.Failure:
        raise
    except Exception as err:
        if is_transient(err):
            raise
        raise dg.Failure(description=f"{what} failed: {describe_error(err)}", allow_retries=False) from err


def _chunk_scope(table: str, scope: RunScope, chunk: MergeChunk) -> RunScope:
    """The run's partitions a chunk writes: its platform on its days (all of them in the run)."""
    subset = scope.where("platform", [chunk.platform]).on_days(chunk.days)
    missing = set(chunk.days) - set(subset.days())
    if not chunk.days or missing:
        shown = ", ".join(str(d) for d in sorted(missing)) or "no days"
        raise ValueError(f"{table}: a chunk of {chunk.platform} names {shown}, outside the run's partitions")
    return subset


def _merge_chunk(
    conn: psycopg.Connection, table: str, key: tuple[str, ...], chunk: MergeChunk, scope: RunScope
) -> WriteSummary:
    """Merge a chunk's rows and save its provider's cursors in one transaction: the cursors are
    stored with the posts they cover, or not at all."""
    with conn.transaction():
        written = merge_rows(conn, table, chunk.rows, key=key, partitions=scope.rows, provider=chunk.provider)
        if chunk.cursors:
            save_cursors(conn, chunk.provider, chunk.cursors)
    return written
