"""The PostgreSQL warehouse: schema migrations, partition-aware loads and reads, and what a run's
writes cover."""

from kedah_analytics.warehouse.columns import table_columns
from kedah_analytics.warehouse.load import WriteSummary, merge_rows, replace_partitions
from kedah_analytics.warehouse.migrate import apply_migrations
from kedah_analytics.warehouse.read import count_rows, read_table
from kedah_analytics.warehouse.scope import PartitionFilter, RunScope
from kedah_analytics.warehouse.writes import (
    MergeChunk,
    MergeChunks,
    ReplaceChunks,
    ReplaceRows,
    TableWrite,
)

__all__ = [
    "MergeChunk",
    "MergeChunks",
    "PartitionFilter",
    "ReplaceChunks",
    "ReplaceRows",
    "RunScope",
    "TableWrite",
    "WriteSummary",
    "count_rows",
    "apply_migrations",
    "merge_rows",
    "read_table",
    "replace_partitions",
    "table_columns",
]
