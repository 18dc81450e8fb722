"""The PostgreSQL warehouse as a resource, and the IO manager that writes assets into it.

The IO manager maps an asset to ``kedah.<asset name>`` and its partitions to columns: a
``date`` x ``platform`` partition to the ``date`` and ``platform`` columns, a daily or weekly one
to the column named by the asset's ``partition_expr`` metadata (``date`` by default). Each asset
returns a typed write (:class:`ReplaceRows` or :class:`MergeRows`) saying how its rows are stored;
every write is one transaction with COPY. The warehouse resource is for reads, checks and the
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

from kedah_analytics.domain import QuarantinedRecord
from kedah_analytics.settings import PG_URL
from kedah_analytics.warehouse import (
    MergeRows,
    PartitionFilter,
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
from kedah_analytics.warehouse.checks import CheckOutcome
from kedah_analytics.warehouse.quarantine import quarantine_records
from kedah_analytics.warehouse.state import save_cursors

_migrated: set[str] = set()
_migrate_lock = threading.Lock()
CONNECT_TIMEOUT_S = 10
PREVIEW_ROWS = 5


def ensure_migrated(url: str) -> None:
    """Apply pending migrations once per process and URL."""
    with _migrate_lock:
        if url not in _migrated:
            apply_migrations(url)
            _migrated.add(url)


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_S)


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
        """Run a check of ``kedah_analytics.warehouse.checks`` and report it to Dagster."""
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


def table_metadata(
    conn: psycopg.Connection,
    table: str,
    partitions: PartitionFilter | None,
    written: pd.DataFrame,
    summary: WriteSummary,
) -> dict[str, Any]:
    """What a write changed, the table and its column schema, the rows now stored, a preview."""
    columns = table_columns(conn, table)
    stored = count_rows(conn, table, partitions)
    return {
        **summary.as_metadata(),
        "dagster/table_name": f"kedah.{table}",
        "dagster/column_schema": dg.TableSchema(
            columns=[
                dg.TableColumn(c.name, c.type, constraints=dg.TableColumnConstraints(nullable=not c.not_null))
                for c in columns
            ]
        ),
        ("dagster/partition_row_count" if partitions is not None else "dagster/row_count"): stored,
        "preview": dg.MetadataValue.md(_markdown_preview(written)),
    }


class PostgresIOManager(dg.ConfigurableIOManager):
    """Stores each asset as table ``kedah.<asset>``, partition by partition, in one transaction.

    An asset returns a :class:`ReplaceRows` or a :class:`MergeRows`; which one is the asset's own
    statement of how its table is written. Inputs are read back as DataFrames."""

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
        if not isinstance(obj, ReplaceRows | MergeRows):
            raise TypeError(
                f"{context.asset_key.to_user_string()} returned {type(obj).__name__}; assets stored in "
                "PostgreSQL return ReplaceRows(...) or MergeRows(...) (kedah_analytics.warehouse)"
            )
        table = context.asset_key.path[-1]
        partitions = self._filter(context, context.definition_metadata or {})
        with connect(self.url) as conn:
            if isinstance(obj, MergeRows):
                summary = _merge(conn, table, obj, partitions)
            else:
                summary = replace_partitions(conn, table, obj.rows, obj.only or partitions)
            context.add_output_metadata(table_metadata(conn, table, partitions, obj.rows, summary))

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = context.asset_key.path[-1]
        upstream = context.upstream_output
        metadata = (upstream.definition_metadata if upstream is not None else None) or {}
        partitions = self._filter(context, metadata)
        with connect(self.url) as conn:
            return read_table(conn, table, partitions)


def _merge(
    conn: psycopg.Connection, table: str, write: MergeRows, partitions: PartitionFilter | None
) -> WriteSummary:
    """Merge platform by platform, and save the cursors, all in one transaction."""
    if partitions is None:
        raise ValueError(f"{table}: merge writes need a partitioned asset")
    total = WriteSummary(table=f"kedah.{table}", mode="merge")
    with conn.transaction():
        for platform, subset in _split_by(partitions, "platform").items():
            if platform not in write.provider_by_platform:
                raise ValueError(f"{table}: no provider recorded for platform {platform!r}")
            rows = write.rows[write.rows["platform"] == platform] if len(write.rows) else write.rows
            total.add(
                merge_rows(
                    conn,
                    table,
                    rows,
                    key=write.key,
                    partitions=subset,
                    provider=write.provider_by_platform[platform],
                )
            )
        for provider, cursors in write.cursors.items():
            save_cursors(conn, provider, cursors)
    return total
