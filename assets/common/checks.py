"""How an asset's checks are built: each runs on the partitions its run materialized, not on the
whole table, so a check costs what its partitions cost and its result belongs to them in the UI."""

from typing import Any

import dagster as dg

from resources import PostgresWarehouse
from resources.run_scope import scope_of


def table_check(
    asset: dg.AssetsDefinition,
    name: str,
    description: str,
    check: Any,
    *args: Any,
    blocking: bool = False,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **kwargs: Any,
) -> dg.AssetChecksDefinition:
    """A check of ``asset`` running ``check(conn, *args, partitions=..., **kwargs)`` (a function of
    ``kedah_analytics.quality.tables``) on the checked partitions. ``blocking``: a failed check
    stops the run's downstream assets, for tables whose bad rows must not feed the next stage."""
    partitions_def = asset.partitions_def
    partition_expr = (asset.metadata_by_key.get(asset.key) or {}).get("partition_expr")

    @dg.asset_check(
        asset=asset, name=name, description=description, partitions_def=partitions_def, blocking=blocking
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: PostgresWarehouse) -> dg.AssetCheckResult:
        # The check's own step parses the run's keys the same way the asset's did.
        scope = (
            scope_of(partitions_def, context.partition_keys, partition_expr)
            if partitions_def is not None
            else None
        )
        rows = scope.rows if scope is not None else None
        return warehouse.run_check(check, *args, partitions=rows, severity=severity, **kwargs)

    return _check
