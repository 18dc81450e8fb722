"""The PostgreSQL warehouse as a resource, and the IO manager that writes assets into it.

The IO manager maps an asset to ``kedah.<asset name>`` and its partitions to columns: a
``date`` x ``platform`` partition to the ``date`` and ``platform`` columns, a daily or weekly one
to the column named by the asset's ``partition_expr`` metadata (``date`` by default). Each asset
returns a typed write (:class:`ReplaceRows`, :class:`MergeRows`, or chunk by chunk
:class:`ReplaceChunks` and :class:`MergeChunks`) saying how its rows are stored; every write (every
chunk) is one transaction with COPY. The warehouse resource is for reads, checks and the
quarantine; table writes go through the IO manager only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import pandas as pd
import psycopg
from pydantic import Field

from kedah_analytics.config.settings import PG_URL
from kedah_analytics.domain import QuarantinedRecord
from kedah_analytics.quality.tables import CheckOutcome
from kedah_analytics.sources.common.failures import day_span
from kedah_analytics.transient import describe_error, is_transient
from kedah_analytics.warehouse import (
    MergeChunk,
    MergeChunks,
    MergeRows,
    PartitionFilter,
    ReplaceChunks,
    ReplaceRows,
    TableWrite,
    WriteSummary,
    apply_migrations,
    count_rows,
    merge_rows,
    read_table,
    replace_partitions,
    table_columns,
)
from kedah_analytics.warehouse.connection import connect
from kedah_analytics.warehouse.load import (
    DailyRows,
    count_rows_by_partition,
    lock_partitions,
    narrow,
    rows_by_partition,
)
from kedah_analytics.warehouse.quarantine import quarantine_records
from kedah_analytics.warehouse.state import save_cursors
from kedah_analytics.warehouse.writes import Describe

_migrated: set[str] = set()
_migrate_lock = threading.Lock()
PREVIEW_ROWS = 5


def ensure_migrated(url: str) -> None:
    """Apply pending migrations once per process and URL."""
    with _migrate_lock:
        if url not in _migrated:
            apply_migrations(url)
            _migrated.add(url)


class PostgresWarehouse(dg.ConfigurableResource):
    """The warehouse (schema ``kedah``) for reads, checks and the quarantine; tables are written by
    the IO manager."""

    url: str = Field(description=f"PostgreSQL URL ({PG_URL.name})")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        ensure_migrated(self.url)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with connect(self.url) as conn:
            yield conn

    def quarantine(self, asset: str, partition_key: str, records: Sequence[QuarantinedRecord]) -> int:
        with self.connection() as conn:
            return quarantine_records(conn, asset, partition_key, records)

    def run_check(
        self,
        check: Callable[..., CheckOutcome],
        *args: Any,
        severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
        **kwargs: Any,
    ) -> dg.AssetCheckResult:
        """Run a check of ``kedah_analytics.quality.tables`` and report it to Dagster."""
        with self.connection() as conn:
            outcome = check(conn, *args, **kwargs)
        return dg.AssetCheckResult(passed=outcome.passed, metadata=outcome.details, severity=severity)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.connection() as conn:
            return conn.execute(statement, params).fetchall()


def _dimension_value(partitions_def: dg.PartitionsDefinition, key: str) -> Any:
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        return partitions_def.time_window_for_partition_key(key).start.date()
    return key


def partition_filter(
    partitions_def: dg.PartitionsDefinition, keys: Sequence[str], partition_expr: Any = None
) -> PartitionFilter:
    """The warehouse rows that partitions ``keys`` of an asset cover."""
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        dims = [(d.name, d.partitions_def) for d in partitions_def.partitions_defs]
        expr = partition_expr or {}
        values = []
        for key in keys:
            by_dim = partitions_def.get_partition_key_from_str(str(key)).keys_by_dimension
            values.append(tuple(_dimension_value(pdef, by_dim[name]) for name, pdef in dims))
        return PartitionFilter(tuple(expr.get(name, name) for name, _ in dims), tuple(values))
    column = partition_expr or "date"
    return PartitionFilter((column,), tuple((_dimension_value(partitions_def, k),) for k in keys))


def _split_by(filter_: PartitionFilter, column: str) -> dict[Any, PartitionFilter]:
    index = filter_.columns.index(column)
    groups: dict[Any, list[tuple]] = {}
    for value in filter_.values:
        groups.setdefault(value[index], []).append(value)
    return {k: PartitionFilter(filter_.columns, tuple(v)) for k, v in groups.items()}


def _markdown_preview(df: pd.DataFrame) -> str:
    shown = df.drop(columns=[c for c in ("payload",) if c in df.columns]).head(PREVIEW_ROWS)
    return shown.to_markdown(index=False) if len(shown) else "(no rows)"


def _schema(conn: psycopg.Connection, table: str) -> dict[str, Any]:
    columns = table_columns(conn, table)
    return {
        "dagster/table_name": f"kedah.{table}",
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(c.name, c.type, constraints=dg.TableColumnConstraints(nullable=not c.not_null))
                for c in columns
            ]
        ),
    }


def table_metadata(
    conn: psycopg.Connection,
    table: str,
    partitions: PartitionFilter | None,
    written: pd.DataFrame,
    summary: WriteSummary,
) -> dict[str, Any]:
    """What an unpartitioned write changed, the table and its column schema, the rows, a preview."""
    return {
        **summary.as_metadata(),
        **_schema(conn, table),
        ("dagster/partition_row_count" if partitions is not None else "dagster/row_count"): count_rows(
            conn, table, partitions
        ),
        "preview": dg.MetadataValue.md(_markdown_preview(written)),
    }


class PartitionFigures:
    """Each partition's own figures, recorded on that partition's materialization.

    A ranged run materializes every partition of its range; what each one shows (stored rows,
    rows written, posts, preview) is that partition's, never the run's. Run totals go under
    ``run_*`` names with a per-partition table."""

    def __init__(self, keys: Sequence[str], partitions: PartitionFilter, describe: Describe | None):
        self.partitions = partitions
        self.describe = describe
        self.key_by_value = dict(zip(partitions.values, keys, strict=True))
        self.figures: dict[str, dict[str, Any]] = {}
        self.previews: dict[str, str] = {}

    def record(
        self,
        conn: psycopg.Connection,
        table: str,
        subset: PartitionFilter,
        rows: pd.DataFrame,
        summary: WriteSummary | None = None,
    ) -> None:
        if not len(subset):
            return
        stored = count_rows_by_partition(conn, table, subset)
        merged = summary.extra.get("by_partition") if summary is not None else None
        for value, part in rows_by_partition(rows, subset).items():
            key = self.key_by_value[value]
            figures: dict[str, Any] = {"rows_stored": stored[value], "rows_written": len(part)}
            if merged is not None:
                figures.update(merged.get(value, {"inserted": 0, "updated": 0}))
            if self.describe is not None:
                figures.update(self.describe(part))
            self.figures[key] = figures
            self.previews[key] = _markdown_preview(part)

    def _partition_metadata(self, key: str) -> dict[str, Any]:
        figures = self.figures[key]
        return {
            "dagster/partition_row_count": figures["rows_stored"],
            **{k: v for k, v in figures.items() if k != "rows_stored"},
            "preview": dg.MetadataValue.md(self.previews[key]),
        }

    @contextmanager
    def kept_on_failure(self, context: dg.OutputContext, table: str) -> Iterator[None]:
        """A chunked write that fails still records the partitions its committed chunks stored.

        Each chunk commits on its own, so when a later chunk fails the earlier partitions hold their
        new rows: they are recorded as materialized (the run still fails), so the UI shows what the
        warehouse holds."""
        try:
            yield
        except BaseException:
            for key in sorted(self.figures):
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.asset_key,
                        partition=key,
                        description=f"stored in kedah.{table} before a later chunk of the run failed",
                        metadata=self._partition_metadata(key),
                    )
                )
            raise

    def publish(self, context: dg.OutputContext) -> dict[str, Any]:
        """Per-partition metadata onto each partition; the run-level metadata to return."""
        step = context.step_context
        asset_key = context.asset_key
        for key in self.figures:
            step.add_asset_metadata(self._partition_metadata(key), asset_key=asset_key, partition_key=key)
        totals: dict[str, Any] = {}
        for figures in self.figures.values():
            for name, value in figures.items():
                if isinstance(value, int | float) and not isinstance(value, bool):
                    totals[f"run_{name}"] = totals.get(f"run_{name}", 0) + value
        table = pd.DataFrame([{"partition": k, **f} for k, f in sorted(self.figures.items())])
        if len(table) <= RUN_TABLE_MAX_PARTITIONS:
            return {**totals, "run_partitions": dg.MetadataValue.md(_bounded_markdown(table))}
        # Dagster copies a run's output metadata onto every partition's materialization: a year's
        # table on each of 1,460 partitions would weigh tens of MB in the event log. It goes into
        # the run's log once instead.
        context.log.info(f"kedah.{asset_key.path[-1]}: rows per partition\n{_bounded_markdown(table)}")
        return {**totals, "run_partitions": f"{len(table)} partitions: the table is in the run's log"}


# Up to a month of partitions of one platform, or a week of four, carry the run's per-partition
# table in their metadata; longer runs write it to the run's log.
RUN_TABLE_MAX_PARTITIONS = 31
MAX_PARTITION_TABLE_ROWS = 400


def _bounded_markdown(table: pd.DataFrame) -> str:
    if len(table) <= MAX_PARTITION_TABLE_ROWS:
        return table.to_markdown(index=False)
    shown = table.head(MAX_PARTITION_TABLE_ROWS).to_markdown(index=False)
    return f"{shown}\n\n({len(table) - MAX_PARTITION_TABLE_ROWS} more partitions not shown)"


class PostgresIOManager(dg.ConfigurableIOManager):
    """Stores each asset as table ``kedah.<asset>``, partition by partition.

    An asset returns a :class:`ReplaceRows`, a :class:`MergeRows`, a :class:`ReplaceChunks` or a
    :class:`MergeChunks`; which one is the asset's own statement of how its table is written.
    Inputs are read back as DataFrames, or as :class:`DailyRows` (read a day at a time) where the
    asset asks for that."""

    url: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        ensure_migrated(self.url)

    def _filter(
        self, context: dg.InputContext | dg.OutputContext, metadata: Mapping[str, Any]
    ) -> PartitionFilter | None:
        if not context.has_asset_partitions:
            return None
        return partition_filter(
            context.asset_partitions_def, context.asset_partition_keys, metadata.get("partition_expr")
        )

    def handle_output(self, context: dg.OutputContext, obj: TableWrite) -> None:
        if not isinstance(obj, ReplaceRows | MergeRows | ReplaceChunks | MergeChunks):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}; assets stored in "
                "PostgreSQL return ReplaceRows(...), MergeRows(...), ReplaceChunks(...) or MergeChunks(...) "
                "(kedah_analytics.warehouse)"
            )
        table = context.asset_key.path[-1]
        metadata = context.definition_metadata or {}
        partitions = self._filter(context, metadata)
        # The rows of a chunked write are produced while it is written (a source is called, a
        # classifier runs): a failure here may be the asset's own, hence "materializing".
        with final_unless_transient(f"materializing kedah.{table}"), connect(self.url) as conn:
            context.add_output_metadata(self._write(context, conn, table, obj, partitions, metadata))

    def _write(
        self,
        context: dg.OutputContext,
        conn: psycopg.Connection,
        table: str,
        obj: TableWrite,
        partitions: PartitionFilter | None,
        metadata: Mapping[str, Any],
    ) -> dict[str, Any]:
        if partitions is None:
            if isinstance(obj, MergeRows):
                raise ValueError(f"{table}: merge writes need a partitioned asset")
            if isinstance(obj, ReplaceChunks | MergeChunks):
                raise ValueError(f"{table}: chunked writes need a partitioned asset")
            summary = replace_partitions(conn, table, obj.rows, obj.only)
            return table_metadata(conn, table, None, obj.rows, summary)
        figures = PartitionFigures(context.asset_partition_keys, partitions, obj.describe)
        extra: dict[str, Any] = {}
        if isinstance(obj, MergeRows):
            summary = _merge(conn, table, obj, partitions)
            figures.record(conn, table, partitions, obj.rows, summary)
        elif isinstance(obj, ReplaceRows):
            summary = replace_partitions(conn, table, obj.rows, obj.only or partitions)
            figures.record(conn, table, partitions, obj.rows)
        elif isinstance(obj, ReplaceChunks):
            day_column = _day_column(partitions, metadata)
            summary = WriteSummary(table=f"kedah.{table}", mode="replace by day")
            with figures.kept_on_failure(context, table):
                for day, rows in obj.chunks:
                    subset = narrow(partitions, day_column, day)
                    summary.add(replace_partitions(conn, table, rows, subset))
                    figures.record(conn, table, subset, rows)
            if obj.finish is not None:
                extra = {f"run_{k}": v for k, v in obj.finish().items()}
        else:
            day_column = _day_column(partitions, metadata)
            summary = WriteSummary(table=f"kedah.{table}", mode="merge by chunk")
            with figures.kept_on_failure(context, table):
                for chunk in obj.chunks:
                    subset = _chunk_partitions(table, partitions, day_column, chunk)
                    written = _merge_in_one_transaction(
                        conn, table, obj.key, [(subset, chunk.rows, chunk.provider)],
                        {chunk.provider: chunk.cursors} if chunk.cursors else {},
                    )  # fmt: skip
                    summary.add(written)
                    figures.record(conn, table, subset, chunk.rows, written)
                    context.log.info(
                        f"kedah.{table}: {chunk.platform} {day_span(chunk.days)} stored ({chunk.provider}): "
                        f"{written.inserted} new, {written.updated} updated"
                        + (f", {len(chunk.cursors)} cursor(s) saved" if chunk.cursors else "")
                    )
            if obj.run_metadata is not None:
                extra = dict(obj.run_metadata())
        run = {f"run_{k}": v for k, v in summary.as_metadata().items() if k != "write_mode"}
        return {
            "write_mode": summary.mode,
            **run,
            **extra,
            **_schema(conn, table),
            **figures.publish(context),
        }

    def load_input(self, context: dg.InputContext) -> pd.DataFrame | DailyRows:
        table = context.asset_key.path[-1]
        upstream = context.upstream_output
        metadata = (upstream.definition_metadata if upstream is not None else None) or {}
        partitions = self._filter(context, metadata)
        if context.dagster_type.typing_type is DailyRows:
            return DailyRows(self.url, table, partitions, day_column=_day_column(partitions, metadata))
        with final_unless_transient(f"reading kedah.{table}"), connect(self.url) as conn:
            return read_table(conn, table, partitions)


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


def _day_column(partitions: PartitionFilter | None, metadata: Mapping[str, Any]) -> str:
    expr = metadata.get("partition_expr")
    if isinstance(expr, Mapping):
        return str(expr.get("date", "date"))
    if isinstance(expr, str):
        return expr
    return "date"


def _merge(
    conn: psycopg.Connection, table: str, write: MergeRows, partitions: PartitionFilter | None
) -> WriteSummary:
    """Merge platform by platform, and save the cursors, all in one transaction."""
    if partitions is None:
        raise ValueError(f"{table}: merge writes need a partitioned asset")
    parts = []
    for platform, subset in _split_by(partitions, "platform").items():
        if platform not in write.provider_by_platform:
            raise ValueError(f"{table}: no provider recorded for platform {platform!r}")
        rows = write.rows[write.rows["platform"] == platform] if len(write.rows) else write.rows
        parts.append((subset, rows, write.provider_by_platform[platform]))
    return _merge_in_one_transaction(conn, table, write.key, parts, write.cursors)


def _chunk_partitions(
    table: str, partitions: PartitionFilter, day_column: str, chunk: MergeChunk
) -> PartitionFilter:
    """The run's partitions a chunk writes: its platform on its days (all of them in the run)."""
    days = set(chunk.days)
    subset = _split_by(partitions, "platform").get(chunk.platform)
    index = partitions.columns.index(day_column)
    values = tuple(v for v in (subset.values if subset else ()) if v[index] in days)
    missing = days - {v[index] for v in values}
    if not chunk.days or missing:
        shown = ", ".join(str(d) for d in sorted(missing)) or "no days"
        raise ValueError(f"{table}: a chunk of {chunk.platform} names {shown}, outside the run's partitions")
    return PartitionFilter(partitions.columns, values)


def _merge_in_one_transaction(
    conn: psycopg.Connection,
    table: str,
    key: Sequence[str],
    parts: Sequence[tuple[PartitionFilter, pd.DataFrame, str]],
    cursors: Mapping[str, Mapping[str, str]],
) -> WriteSummary:
    """Merge each ``(partitions, rows, provider)`` and save ``cursors`` (provider -> cursors), all in
    one transaction: the cursors are stored with the posts they cover, or not at all."""
    total = WriteSummary(table=f"kedah.{table}", mode="merge")
    with conn.transaction():
        with conn.cursor() as cur:
            # Every partition written at once, in one order, before any merge.
            lock_partitions(cur, table, _union(table, [p for p, _, _ in parts]))
        for subset, rows, provider in parts:
            total.add(merge_rows(conn, table, rows, key=key, partitions=subset, provider=provider))
        for provider, saved in cursors.items():
            save_cursors(conn, provider, saved)
    return total


def _union(table: str, filters: Sequence[PartitionFilter]) -> PartitionFilter:
    if not filters:
        raise ValueError(f"{table}: a merge names no partitions")
    return PartitionFilter(filters[0].columns, tuple(v for f in filters for v in f.values))
