"""The PostgreSQL warehouse as a resource, and the IO manager that writes assets into it.

The IO manager maps an asset to ``kedah.<asset name>`` and its partitions to columns: a
``date`` x ``platform`` partition to the ``date`` and ``platform`` columns, a daily or weekly one
to the column named by the asset's ``partition_expr`` metadata (``date`` by default). Assets
whose metadata says ``write_mode: merge`` merge on ``primary_key``; all others replace exactly
their partitions. Every write is one transaction with COPY.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dagster as dg
import pandas as pd
import psycopg
from pydantic import Field

from kedah_analytics.sources.base import QuarantinedRecord
from kedah_analytics.sources.pg_state import save_cursors
from kedah_analytics.warehouse import (
    PartitionFilter,
    WriteSummary,
    apply_migrations,
    count_rows,
    merge_rows,
    read_table,
    replace_partitions,
    table_columns,
)
from kedah_analytics.warehouse.quarantine import quarantine_records

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
    """The warehouse (schema ``kedah``) for work outside the IO manager: quarantine, checks."""

    url: str = Field(description="PostgreSQL URL (KEDAH_PG_URL)")

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        ensure_migrated(self.url)

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with connect(self.url) as conn:
            yield conn

    def quarantine(self, asset: str, partition_key: str, records: Sequence[QuarantinedRecord]) -> int:
        with self.connection() as conn:
            return quarantine_records(conn, asset, partition_key, records)

    def replace(
        self,
        table: str,
        rows: pd.DataFrame,
        partitions: PartitionFilter,
        stored_in: PartitionFilter | None = None,
    ) -> dict[str, Any]:
        """Replace exactly ``partitions`` of ``kedah.<table>`` with ``rows`` in one transaction; the
        materialization metadata of the write, counting the rows stored in ``stored_in`` (the run's
        Dagster partitions, when the write replaces only part of them)."""
        with self.connection() as conn:
            summary = replace_partitions(conn, table, rows, partitions)
            return table_metadata(conn, table, stored_in or partitions, rows, summary)

    def stored_rows(self, table: str, partitions: PartitionFilter) -> int:
        with self.connection() as conn:
            return count_rows(conn, table, partitions)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple]:
        with self.connection() as conn:
            return conn.execute(statement, params).fetchall()  # type: ignore[arg-type]


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
    """Stores each asset as table ``kedah.<asset>``, partition by partition, in one transaction."""

    url: str

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        ensure_migrated(self.url)

    def _filter(self, context: dg.InputContext | dg.OutputContext, metadata: dict) -> PartitionFilter | None:
        if not context.has_asset_partitions:
            return None
        return partition_filter(
            context.asset_partitions_def, context.asset_partition_keys, metadata.get("partition_expr")
        )

    def handle_output(self, context: dg.OutputContext, obj: pd.DataFrame | None) -> None:
        if obj is None:
            return
        table = context.asset_key.path[-1]
        metadata = context.definition_metadata or {}
        partitions = self._filter(context, metadata)
        with connect(self.url) as conn:
            if metadata.get("write_mode") == "merge":
                summary = self._merge(conn, table, obj, partitions, metadata)
            else:
                summary = replace_partitions(conn, table, obj, partitions)
            context.add_output_metadata(table_metadata(conn, table, partitions, obj, summary))

    def _merge(self, conn, table: str, obj: pd.DataFrame, partitions: PartitionFilter | None, metadata: dict):
        if partitions is None:
            raise ValueError(f"{table}: merge writes need a partitioned asset")
        providers: dict[str, str] = obj.attrs.get("provider_by_platform", {})
        summaries = []
        with conn.transaction():
            for platform, subset in _split_by(partitions, "platform").items():
                if platform not in providers:
                    raise ValueError(f"{table}: no provider recorded for platform {platform!r}")
                rows = obj[obj["platform"] == platform]
                summaries.append(
                    merge_rows(
                        conn,
                        table,
                        rows,
                        key=metadata["primary_key"],
                        partitions=subset,
                        provider=providers[platform],
                    )
                )
            # Cursors commit with the posts they cover: a failed write never skips posts next poll.
            for provider, cursors in obj.attrs.get("source_cursors", {}).items():
                save_cursors(conn, provider, cursors)
        total = summaries[0]
        for s in summaries[1:]:
            for field in ("rows_written", "inserted", "updated", "duplicates_dropped", "demo_rows_removed",
                          "partitions"):  # fmt: skip
                setattr(total, field, getattr(total, field) + getattr(s, field))
        return total

    def load_input(self, context: dg.InputContext) -> pd.DataFrame:
        table = context.asset_key.path[-1]
        upstream = context.upstream_output
        metadata = (upstream.definition_metadata if upstream is not None else None) or {}
        partitions = self._filter(context, metadata)
        with connect(self.url) as conn:
            return read_table(conn, table, partitions)
