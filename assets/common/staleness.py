"""Stale partitions: a derived partition whose latest materialization is older than the latest
materialization of a parent partition it reads. The automation conditions are meant to make this
impossible once runs settle; the `stale_partitions` sensor says in the UI when it happens anyway."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import dagster as dg

MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


@dataclass(frozen=True)
class StalePartition:
    asset: str
    partition: str
    parent: str
    parent_partition: str
    behind_s: float  # how much older the partition is than its parent's latest write

    def describe(self) -> str:
        return (
            f"{self.asset} {self.partition}: {self.parent} {self.parent_partition} was rewritten "
            f"{self.behind_s:.0f}s after it"
        )


def _latest(
    instance: dg.DagsterInstance, key: dg.AssetKey, partitions: set[str]
) -> dict[str, tuple[int, float]]:
    """Each partition's latest materialization: its storage id (global order) and timestamp."""
    ids = instance.event_log_storage.get_latest_storage_id_by_partition(key, MATERIALIZATION, partitions)
    if not ids:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, storage_ids=list(ids.values())), limit=len(ids)
    ).records
    return {str(r.partition_key): (r.storage_id, r.timestamp) for r in records}


def stale_partitions(
    instance: dg.DagsterInstance,
    graph: Any,  # a repository's asset graph (Definitions.resolve_asset_graph())
    recent_keys: int = 28,
    settled_s: float = 0.0,
) -> list[StalePartition]:
    """The partitions among each derived asset's ``recent_keys`` newest ones that are older than
    a parent partition they read, where that parent's write is at least ``settled_s`` old
    (automation had its chance)."""
    now = time.time()
    found = []
    for node in graph.asset_nodes:
        key = node.key
        if node.partitions_def is None or not node.parent_keys:
            continue
        keys = node.partitions_def.get_partition_keys()[-recent_keys:]
        mine = _latest(instance, key, set(keys))
        for parent in sorted(node.parent_keys):
            if graph.get(parent).partitions_def is None:
                continue  # the places reference table: a refresh is not a change of every day
            reads = {
                child: graph.get_parent_partition_keys_for_child(
                    child, parent, key
                ).partitions_subset.get_partition_keys()
                for child in mine
            }
            theirs = _latest(instance, parent, {p for ps in reads.values() for p in ps})
            for child, (child_id, child_ts) in sorted(mine.items()):
                newer = [
                    (p, theirs[p][1])
                    for p in reads[child]
                    if p in theirs and theirs[p][0] > child_id and now - theirs[p][1] >= settled_s
                ]
                if newer:
                    p, ts = max(newer, key=lambda item: item[1])
                    found.append(
                        StalePartition(key.to_user_string(), child, parent.to_user_string(), p, ts - child_ts)
                    )
    return found


# Automation evaluates every 60 s and a mart run takes a minute or two: a parent written this
# long ago should have been followed.
SETTLED_S = 600


@dg.sensor(
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Reports (in its ticks and log) any recent derived partition older than a parent "
    "partition it reads, once the parent's write is 10 minutes old.",
)
def stale_partitions_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason:
    assert context.repository_def is not None
    stale = stale_partitions(context.instance, context.repository_def.asset_graph, settled_s=SETTLED_S)
    if not stale:
        return dg.SkipReason("no stale partition among the recent ones")
    for partition in stale:
        context.log.warning(f"stale: {partition.describe()}")
    shown = "; ".join(p.describe() for p in stale[:10])
    return dg.SkipReason(f"{len(stale)} stale partition(s): {shown}")
