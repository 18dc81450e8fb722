"""A check step's per-partition results, and a run's planned events, are written as batches
(sensors/event_batches.py), and what is stored is what Dagster stores when it writes them one at a
time: the same events in the same places of the run's log, the same execution row per partition,
the same status per partition where the UI reads it, the same row of each asset."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as db
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, AssetKeyTable
from databases import instance_on, new_database

from assets.common.checks import partition_evaluations
from kedah_analytics.quality.tables import CheckOutcome
from sensors import event_batches
from sensors.event_batches import is_batchable_check_evaluation, is_planned

KEYS = [f"p{i}" for i in range(6)]
PARTITIONS = dg.StaticPartitionsDefinition(KEYS)
FAILING = "p3"


@dg.asset(partitions_def=PARTITIONS, backfill_policy=dg.BackfillPolicy.single_run())
def numbers(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"keys": len(context.partition_keys)})


@dg.asset(partitions_def=PARTITIONS, deps=[numbers], backfill_policy=dg.BackfillPolicy.single_run())
def downstream(context: dg.AssetExecutionContext) -> None:
    return None


def _outcome(key: str) -> CheckOutcome:
    return CheckOutcome(key != FAILING, {"key": key})


@dg.asset_check(asset=numbers, partitions_def=PARTITIONS)  # type: ignore[arg-type]
def numbers_fine(context: dg.AssetCheckExecutionContext) -> Iterator[Any]:
    keys = list(context.partition_keys)
    yield from partition_evaluations(
        context, keys, [CheckOutcome(True, {"key": k}) for k in keys], dg.AssetCheckSeverity.WARN
    )


@dg.asset_check(asset=numbers, partitions_def=PARTITIONS, blocking=True)  # type: ignore[arg-type]
def numbers_blocking(context: dg.AssetCheckExecutionContext) -> Iterator[Any]:
    keys = list(context.partition_keys)
    yield from partition_evaluations(context, keys, [_outcome(k) for k in keys], dg.AssetCheckSeverity.ERROR)


@dg.asset_check(asset=downstream, partitions_def=PARTITIONS)  # type: ignore[arg-type]
def downstream_fine(context: dg.AssetCheckExecutionContext) -> Iterator[Any]:
    """Planned with the run, never run (its asset is stopped): its rows stay as the run planned them."""
    keys = list(context.partition_keys)
    yield from partition_evaluations(
        context, keys, [CheckOutcome(True, {}) for _ in keys], dg.AssetCheckSeverity.WARN
    )


CHECKS = [numbers_fine, numbers_blocking, downstream_fine]
DEFS = dg.Definitions(assets=[numbers, downstream], asset_checks=CHECKS)
RANGE_TAGS = {
    "dagster/asset_partition_range_start": KEYS[0],
    "dagster/asset_partition_range_end": KEYS[-1],
}


@pytest.fixture
def instance(pg_server_url: str, tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    with new_database(pg_server_url, "kedah_checks") as url, instance_on(url, tmp_path) as instance:
        yield instance


def _run(instance: dg.DagsterInstance, batch_size: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", batch_size)
    result = DEFS.resolve_implicit_global_asset_job_def().execute_in_process(
        instance=instance, tags=RANGE_TAGS, raise_on_error=False
    )
    return result.run_id


def _stored(instance: dg.DagsterInstance, run_id: str) -> dict[str, Any]:
    """What a run left in the event log and the execution rows, without its ids and times."""
    records = instance.get_records_for_run(run_id).records
    log = [
        (
            r.event_log_entry.dagster_event_type.value,
            r.event_log_entry.step_key,
            r.event_log_entry.dagster_event.asset_key,
            r.event_log_entry.dagster_event.partition,
        )
        for r in records
        if r.event_log_entry.dagster_event is not None
    ]
    by_id = {r.storage_id: r.event_log_entry for r in records}
    executions = AssetCheckExecutionsTable
    with instance.event_log_storage.index_connection() as conn:
        rows = conn.execute(
            db.select(executions).where(executions.c.run_id == run_id).order_by(executions.c.id)
        ).mappings()
        stored = []
        for row in rows:
            evaluation = by_id[row["evaluation_event_storage_id"]]
            target = by_id.get(row["materialization_event_storage_id"])
            stored.append(
                (
                    row["check_name"],
                    row["partition"],
                    row["execution_status"],
                    evaluation.dagster_event_type.value,
                    getattr(evaluation.dagster_event.event_specific_data, "partition", None),
                    target.dagster_event.partition if target is not None else None,
                    row["evaluation_event_timestamp"] == _naive(evaluation.timestamp),
                )
            )
    status = {
        (info.check_key.name, info.partition_key): (
            info.latest_execution_status,
            info.latest_planned_run_id == run_id,
        )
        for info in instance.event_log_storage.get_asset_check_partition_info([c.check_key for c in CHECKS])
    }
    # The asset that never materialized (the blocking check failed) has the row its planned events
    # left: the run, and the time of its last planned event.
    last_planned = max(
        r.event_log_entry.timestamp
        for r in records
        if r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        and r.event_log_entry.dagster_event.asset_key == dg.AssetKey("downstream")
    )
    with instance.event_log_storage.index_connection() as conn:
        run, latest = conn.execute(
            db.select(AssetKeyTable.c.last_run_id, AssetKeyTable.c.last_materialization_timestamp).where(
                AssetKeyTable.c.asset_key == dg.AssetKey("downstream").to_string()
            )
        ).one()
    asset_row = (run == run_id, latest.timestamp() == pytest.approx(last_planned, abs=1e-6))
    return {"log": log, "executions": sorted(stored, key=str), "status": status, "asset_row": asset_row}


def _record(monkeypatch: pytest.MonkeyPatch, storage: Any, method: str, calls: list[Any]) -> None:
    """``storage.method`` still stores, and appends what it was given to ``calls``."""
    original = getattr(storage, method)

    def recording(given: Any) -> None:
        calls.append(given)
        original(given)

    monkeypatch.setattr(storage, method, recording)


def _naive(timestamp: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def test_a_ranged_runs_check_results_are_stored_as_dagster_stores_them_one_at_a_time(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    stored_alone: list[Any] = []
    _record(monkeypatch, instance.event_log_storage, "store_event", stored_alone)

    def batchable_alone() -> list[Any]:
        return [e for e in stored_alone if is_batchable_check_evaluation(e) or is_planned(e)]

    one_at_a_time = _stored(instance, _run(instance, "0", monkeypatch))
    # Dagster's own path: a write per evaluation, per planned partition of each asset, per check
    assert len(batchable_alone()) == 2 * len(KEYS) + 2 * len(KEYS) + len(CHECKS)
    stored_alone.clear()
    batched = _stored(instance, _run(instance, "1000", monkeypatch))
    assert batchable_alone() == []  # every evaluation and planned event went through a batch

    assert batched["log"] == one_at_a_time["log"]
    assert batched["asset_row"] == one_at_a_time["asset_row"] == (True, True)
    assert batched["executions"] == one_at_a_time["executions"]
    assert len(batched["executions"]) == 3 * len(KEYS)  # the never-run check's planned rows too
    statuses = {key: status for key, (status, _) in batched["status"].items()}
    assert statuses[("numbers_blocking", FAILING)].value == "FAILED"
    assert sum(s.value == "SUCCEEDED" for s in statuses.values()) == 2 * len(KEYS) - 1
    assert {statuses[("downstream_fine", key)].value for key in KEYS} == {"PLANNED"}
    assert all(latest for _, latest in batched["status"].values())  # the batched run is the latest
    # The failed blocking check still stops the downstream asset.
    assert not instance.fetch_materializations(dg.AssetKey("downstream"), limit=1).records


def test_evaluations_are_written_in_batches_of_the_batch_size(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    batches: list[Any] = []
    _record(monkeypatch, instance.event_log_storage, "store_event_batch", batches)
    stored = _stored(instance, _run(instance, "4", monkeypatch))
    sizes = [len(b) for b in batches if all(is_batchable_check_evaluation(e) for e in b)]
    assert sizes == [4, 2, 4, 2]  # each check's six results: a full batch, then the rest
    assert len(stored["executions"]) == 3 * len(KEYS)


def test_an_evaluation_without_a_planned_row_gets_one_as_in_dagster(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster inserts the execution row when none was planned (a step launched elsewhere); the
    batch does the same: the run's rows deleted and its evaluations written again as a batch give
    the very rows Dagster wrote."""
    run_id = _run(instance, "0", monkeypatch)
    before = _stored(instance, run_id)
    events = [
        r.event_log_entry
        for r in instance.get_records_for_run(run_id).records
        if r.event_log_entry.dagster_event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION
    ]
    executions = AssetCheckExecutionsTable
    with instance.event_log_storage.index_connection() as conn:
        conn.execute(
            db.delete(executions).where(
                executions.c.run_id == run_id, executions.c.execution_status != "PLANNED"
            )
        )
        conn.execute(
            db.text(
                "DELETE FROM event_logs WHERE run_id = :run AND dagster_event_type = 'ASSET_CHECK_EVALUATION'"
            ),
            {"run": run_id},
        )
    instance.event_log_storage.store_event_batch(events)
    after = _stored(instance, run_id)
    assert after["executions"] == before["executions"]
    assert sorted(after["status"].items(), key=str) == sorted(before["status"].items(), key=str)


def test_a_batch_that_fails_part_way_leaves_nothing_and_dagster_stores_its_events_one_by_one(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch is one transaction: failing after its INSERT (here, where the planned checks'
    rows and the evaluations' planned rows are read), it leaves no event behind, and Dagster's
    fallback then writes every event alone, with nothing stored twice."""
    one_at_a_time = _stored(instance, _run(instance, "0", monkeypatch))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(event_batches, "_planned_check_rows", broken)
    monkeypatch.setattr(event_batches, "_planned_rows", broken)
    fell_back = _stored(instance, _run(instance, "1000", monkeypatch))
    assert fell_back == {**one_at_a_time, "status": fell_back["status"]}
    assert {k: v[0] for k, v in fell_back["status"].items()} == {
        k: v[0] for k, v in one_at_a_time["status"].items()
    }
