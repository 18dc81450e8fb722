"""The PostgreSQL warehouse: schema migrations and partition-aware loads."""

from kedah_analytics.warehouse.load import (
    PartitionFilter,
    WriteSummary,
    count_rows,
    merge_rows,
    read_table,
    replace_partitions,
    table_columns,
)
from kedah_analytics.warehouse.migrate import apply_migrations
from kedah_analytics.warehouse.writes import (
    MergeChunk,
    MergeChunks,
    MergeRows,
    ReplaceChunks,
    ReplaceRows,
    TableWrite,
)

__all__ = [
    "MergeChunk",
    "MergeChunks",
    "MergeRows",
    "PartitionFilter",
    "ReplaceChunks",
    "ReplaceRows",
    "TableWrite",
    "WriteSummary",
    "count_rows",
    "apply_migrations",
    "merge_rows",
    "read_table",
    "replace_partitions",
    "table_columns",
]
