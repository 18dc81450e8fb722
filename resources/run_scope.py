"""A run's scope from its Dagster context: which dimensions an asset has, which column each fills.

The keys themselves are parsed once, by ``kedah_analytics.warehouse.scope.RunScope``; the asset,
the IO manager and the checks all get their scope here.

The columns: a ``date`` x ``platform`` partition fills the ``date`` and ``platform`` columns, a
daily or weekly one the column named by the asset's ``partition_expr`` metadata (``date`` by
default; a mapping of dimension to column for a multi-partitioned asset).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dagster as dg

from kedah_analytics.warehouse.scope import DAY_KEY, Dimension, RunScope


def _parser(partitions_def: dg.PartitionsDefinition) -> Callable[[str], Any]:
    if isinstance(partitions_def, dg.TimeWindowPartitionsDefinition):
        if partitions_def.fmt == "%Y-%m-%d":
            return DAY_KEY
        return lambda key: partitions_def.time_window_for_partition_key(key).start.date()
    return str


def dimensions(
    partitions_def: dg.PartitionsDefinition, partition_expr: Any = None
) -> tuple[list[Dimension], str]:
    """An asset's partition dimensions as warehouse columns, and the column that holds the day."""
    if isinstance(partitions_def, dg.MultiPartitionsDefinition):
        expr: Mapping[str, str] = partition_expr or {}
        dims = [
            Dimension(expr.get(d.name, d.name), _parser(d.partitions_def))
            for d in partitions_def.partitions_defs
        ]
        return dims, expr.get("date", "date")
    column = partition_expr or "date"
    return [Dimension(column, _parser(partitions_def))], column


def scope_of(
    partitions_def: dg.PartitionsDefinition | None, keys: Sequence[str], partition_expr: Any = None
) -> RunScope | None:
    """The scope of partitions ``keys`` of an asset (None for an unpartitioned asset)."""
    if partitions_def is None:
        return None
    dims, day_column = dimensions(partitions_def, partition_expr)
    return RunScope.parse(keys, dims, day_column)


def run_scope(context: dg.AssetExecutionContext) -> RunScope:
    """The partitions this run of the asset covers (one key, or a ranged run's every key)."""
    asset = context.assets_def
    scope = scope_of(
        asset.partitions_def,
        context.partition_keys,
        (asset.metadata_by_key.get(context.asset_key) or {}).get("partition_expr"),
    )
    if scope is None:
        raise ValueError(f"{context.asset_key.to_user_string()} is not partitioned: it has no run scope")
    return scope


def output_scope(context: dg.OutputContext) -> RunScope | None:
    """The partitions an output writes, when the asset did not hand its scope over in its write."""
    if not context.has_asset_partitions:
        return None
    expr = (context.definition_metadata or {}).get("partition_expr")
    return scope_of(context.asset_partitions_def, context.asset_partition_keys, expr)


def input_scope(context: dg.InputContext) -> RunScope | None:
    """The upstream partitions an input reads (through the asset's partition mapping)."""
    if not context.has_asset_partitions:
        return None
    upstream = context.upstream_output
    expr = ((upstream.definition_metadata if upstream is not None else None) or {}).get("partition_expr")
    return scope_of(context.asset_partitions_def, context.asset_partition_keys, expr)
