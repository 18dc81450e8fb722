"""Stale partitions: a derived partition whose latest materialization is older than the latest
materialization of a parent partition it reads. The automation conditions are meant to make this
impossible once runs settle; the `stale_partitions` sensor says in the UI when it happens anyway,
and rebuilds the daily aggregates and marts it finds stale (a range of days per asset and run)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import dagster as dg

from assets.common.runs import range_tags

MATERIALIZATION = dg.DagsterEventType.ASSET_MATERIALIZATION


@dataclass(frozen=True)
class StalePartition:
    asset: str
    partition: str
    parent: str
    parent_partition: str
    behind_s: float  # how much older the partition is than its parent's latest write
    parent_written: float = 0.0  # when that parent partition was written (a Unix timestamp)

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
                        StalePartition(
                            key.to_user_string(), child, parent.to_user_string(), p, ts - child_ts, ts
                        )
                    )
    return found


# Automation evaluates every 60 s and a mart run takes a minute or two: a parent written this
# long ago should have been followed.
SETTLED_S = 600


# The daily-partitioned derived assets the sensor rebuilds when stale (one partitions definition, so
# a run covers a range of their days); classified posts are the cross_platform_spam sensor's.
REPAIRABLE = dg.AssetSelection.assets("place_daily_metrics", "term_daily_counts", "term_hourly_counts") | (
    dg.AssetSelection.groups("marts")
)


def _day_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and ranges[-1][1] + timedelta(days=1) == day:
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def repair_requests(stale: Iterable[StalePartition], repairable: Iterable[str]) -> list[dg.RunRequest]:
    """A run per asset and range of consecutive stale days, for the assets in ``repairable``. The run
    key names the newest parent write behind it, so the same staleness is repaired once and a later
    one again."""
    by_asset: dict[str, list[StalePartition]] = {}
    allowed = set(repairable)
    for partition in stale:
        if partition.asset in allowed:
            by_asset.setdefault(partition.asset, []).append(partition)
    requests = []
    for asset, partitions in sorted(by_asset.items()):
        for first, last in _day_ranges(date.fromisoformat(p.partition) for p in partitions):
            behind = [p for p in partitions if first <= date.fromisoformat(p.partition) <= last]
            newest = max(p.parent_written for p in behind)
            requests.append(
                dg.RunRequest(
                    run_key=f"repair-{asset}-{first}..{last}-{newest:.3f}",
                    asset_selection=[dg.AssetKey(asset)],
                    tags={
                        **range_tags(str(first), str(last)),
                        "kedah/reason": f"stale: {behind[0].describe()}"[:200],
                    },
                )
            )
    return requests


# Automation evaluates every 30 s and a mart run takes a minute or two: a parent written this
# long ago should have been followed.
SETTLED_S = 600


@dg.sensor(
    minimum_interval_seconds=300,
    default_status=dg.DefaultSensorStatus.RUNNING,
    target=REPAIRABLE,
    description="Reports (in its ticks and log) any recent derived partition older than a parent "
    "partition it reads, once the parent's write is 10 minutes old, and rebuilds the daily "
    "aggregates and marts among them: automation's safety net.",
)
def stale_partitions_sensor(context: dg.SensorEvaluationContext) -> dg.SkipReason | dg.SensorResult:
    assert context.repository_def is not None
    graph = context.repository_def.asset_graph
    stale = stale_partitions(context.instance, graph, settled_s=SETTLED_S)
    if not stale:
        return dg.SkipReason("no stale partition among the recent ones")
    for partition in stale:
        context.log.warning(f"stale: {partition.describe()}")
    repairable = {k.to_user_string() for k in REPAIRABLE.resolve(graph)}
    requests = repair_requests(stale, repairable)
    shown = "; ".join(p.describe() for p in stale[:10])
    context.log.warning(f"{len(stale)} stale partition(s), rebuilt in {len(requests)} run(s): {shown}")
    return dg.SensorResult(run_requests=requests)
