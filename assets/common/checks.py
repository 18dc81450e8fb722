"""How an asset's checks are built: each runs on the partitions its run materialized, not on the
whole table, so a check costs what its partitions cost, and it reports one result per partition,
so each partition shows Passed or Failed in the UI, in a ranged run too."""

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import dagster as dg

# Not exported by name; the type of AssetCheckEvaluation's documented target_materialization_data.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as TargetMaterialization,
)

from kedah_analytics.quality.tables import CheckOutcome, duplicate_keys
from kedah_analytics.warehouse import PartitionFilter
from resources import PostgresWarehouse
from resources.run_scope import scope_of

# Each partition's latest materialization as a check result names it, by storage id, per event
# log: an asset's checks run one after another in a run, and each fetched (and deserialized, with
# its metadata) the same hundreds of records again. A storage id names one event for good.
_TARGETS: weakref.WeakKeyDictionary[Any, dict[int, TargetMaterialization]] = weakref.WeakKeyDictionary()
_TARGETS_KEPT = 100_000


def _latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, keys: Sequence[str]
) -> dict[str, TargetMaterialization]:
    """Each partition's latest materialization, which its check result is about: Dagster shows a
    partition's check as current only when the result names that materialization."""
    storage = instance.event_log_storage
    latest = storage.get_latest_storage_id_by_partition(
        asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION, partitions=set(keys)
    )
    if not latest:
        return {}
    known = _TARGETS.setdefault(storage, {})
    missing = [storage_id for storage_id in latest.values() if storage_id not in known]
    if missing:
        if len(known) + len(missing) > _TARGETS_KEPT:
            known.clear()
        records = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=missing), limit=len(missing)
        ).records
        for record in records:
            known[record.storage_id] = TargetMaterialization(
                storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
            )
    return {str(key): known[storage_id] for key, storage_id in latest.items() if storage_id in known}


def partition_evaluations(
    context: dg.AssetCheckExecutionContext,
    keys: Sequence[str],
    outcomes: Sequence[CheckOutcome],
    severity: dg.AssetCheckSeverity,
) -> Iterator[dg.Output | dg.AssetCheckEvaluation]:
    """The check's output, then one evaluation per partition with its key.

    Dagster 1.13 turns an ``AssetCheckResult`` of a ranged run into one evaluation without a
    partition (the UI then shows every partition Skipped), so the evaluations are built here;
    ``blocking`` rides on each, and a failed blocking one still stops the run's downstream steps."""
    (spec,) = context.check_specs
    (output,) = context.op_execution_context.op_def.output_defs  # what downstream steps wait on
    yield dg.Output(None, output_name=output.name)
    targets = _latest_materializations(context.instance, spec.asset_key, keys)
    for key, outcome in zip(keys, outcomes, strict=True):
        yield dg.AssetCheckEvaluation(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=outcome.passed,
            metadata=outcome.details,
            target_materialization_data=targets.get(key),
            severity=severity,
            blocking=spec.blocking,
            partition=key,
        )


def table_check(
    asset: dg.AssetsDefinition,
    name: str,
    description: str,
    check: Callable[..., CheckOutcome],
    *args: Any,
    blocking: bool = False,
    severity: dg.AssetCheckSeverity = dg.AssetCheckSeverity.ERROR,
    **kwargs: Any,
) -> dg.AssetChecksDefinition:
    """A check of ``asset`` running ``check(conn, *args, partitions=..., **kwargs)`` (a rule of
    ``kedah_analytics.quality``) on each checked partition. ``blocking``: a failed check stops the
    run's downstream assets, for tables whose bad rows must not feed the next stage."""
    partitions_def = asset.partitions_def
    partition_expr = (asset.metadata_by_key.get(asset.key) or {}).get("partition_expr")

    # A generator body: Dagster's step accepts the AssetCheckEvaluation events it yields, though the
    # decorator's type names only AssetCheckResult.
    @dg.asset_check(  # type: ignore[arg-type]
        asset=asset, name=name, description=description, partitions_def=partitions_def, blocking=blocking
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: PostgresWarehouse) -> Iterator[Any]:
        if partitions_def is None:
            yield warehouse.run_check(check, *args, partitions=None, severity=severity, **kwargs)
            return
        # The check's own step parses the run's keys the same way the asset's did.
        scope = scope_of(partitions_def, context.partition_keys, partition_expr)
        assert scope is not None
        parts: list[tuple[str, PartitionFilter]] = list(scope.each())
        outcomes = warehouse.check_each(check, [rows for _, rows in parts], *args, **kwargs)
        yield from partition_evaluations(context, [key for key, _ in parts], outcomes, severity)

    return _check


def keys_unique_check(
    asset: dg.AssetsDefinition, key: Sequence[str], description: str, *, blocking: bool = False
) -> dg.AssetChecksDefinition:
    """``<asset>_keys_unique``: no two rows of the asset's table (named like the asset) share ``key``."""
    table = asset.key.path[-1]
    return table_check(
        asset, f"{table}_keys_unique", description, duplicate_keys, table, list(key), blocking=blocking
    )
