"""The PostgreSQL warehouse: schema migrations, partition-aware loads and reads, and what a run's
writes cover.

The names below load their module on first use (a module ``__getattr__``): importing the package,
as the code location does for the write types, does not load pandas or the COPY path."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_MODULE_OF = {
    "MergeChunk": "writes",
    "MergeChunks": "writes",
    "PartitionFilter": "scope",
    "ReplaceChunks": "writes",
    "ReplaceRows": "writes",
    "RunScope": "scope",
    "TableWrite": "writes",
    "WriteSummary": "load",
    "count_rows": "read",
    "apply_migrations": "migrate",
    "merge_rows": "load",
    "read_table": "read",
    "replace_partitions": "load",
    "table_columns": "columns",
}

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


def __getattr__(name: str) -> Any:
    if name not in _MODULE_OF:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_MODULE_OF[name]}"), name)
    globals()[name] = value  # once loaded, a plain attribute
    return value
