"""Events Dagster writes one at a time, written as batches: a check step's per-partition results,
and the planned events a run records when it is created.

Each check of a ranged run reports one evaluation per partition (``assets/common/checks.py``): a
year's backfill records about 11,300 of them. Dagster batches the events it marks as a batch (a
ranged run's materializations) but writes every check evaluation on its own: one INSERT into the
event log, a NOTIFY and an UPDATE of the check's execution row, three statements each committed on
its own, about 2.6 ms an evaluation on this project's machine and the largest part of Dagster's
share of a backfill (``bench/bench_year.py``).

A run's planned events (one per partition of each asset it will materialize, and one per check)
are marked as a batch, but dagster-postgres writes a batch in one statement only when it holds
materializations alone or observations alone; this one, which mixes planned materializations of
several assets with planned checks, went one event at a time: about 5,800 events for a year's
backfill, and 1,460 for a year of one asset's four platforms launched from the UI.

Here the pieces meet:

- :class:`CheckEvaluationBuffer` (used by :class:`sensors.instance.KedahInstance`) holds a
  process's check evaluations until the next event of any other kind (the step's success or
  failure, a log line, the next step's start) or until a batch is full, then hands them to
  Dagster's own batch path in their order. Nothing else comes between: the order of the event log
  is what it would have been. A process that dies in between loses the evaluations of a step that
  did not end either; the run fails as it would have.
- :func:`store_check_evaluations` (used by the event log storage's ``store_event_batch``) writes
  such a batch in one transaction: the events in one INSERT, then each partition's execution row
  (the row Dagster planned when the step started, one per partition) updated from its evaluation,
  the very values Dagster's ``_update_asset_check_evaluation`` writes, and a row inserted where
  none was planned, as Dagster does. The NOTIFY is left out, as in Dagster's own batches (nothing
  of this version listens).
- :func:`store_planned` writes a run's planned events as dagster-postgres writes a batch of
  materializations: the events in one INSERT, then each asset's row updated once from its last
  planned event (what one update per event leaves: the run and the latest time), and each planned
  check's execution rows as Dagster writes them.

``DAGSTER_EVENT_BATCH_SIZE=0`` turns batching off for these as for materializations.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as db
from dagster import DagsterEventType
from dagster._core.errors import DagsterInvariantViolationError
from dagster._core.event_api import EventLogEntry
from dagster._core.events import (
    ASSET_EVENTS,
    DagsterEventBatchMetadata,
    generate_event_batch_id,
)
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, SqlEventLogStorageTable
from dagster._serdes import serialize_value

Executions = AssetCheckExecutionsTable


PLANNED = frozenset(
    {DagsterEventType.ASSET_MATERIALIZATION_PLANNED, DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED}
)


def is_planned(event: EventLogEntry) -> bool:
    return event.dagster_event_type in PLANNED


def is_batchable_check_evaluation(event: EventLogEntry) -> bool:
    """A run's check evaluation of one partition: what :func:`store_check_evaluations` writes."""
    dagster_event = event.dagster_event
    return (
        dagster_event is not None
        and dagster_event.event_type == DagsterEventType.ASSET_CHECK_EVALUATION
        and bool(event.run_id)
        and dagster_event.asset_check_evaluation_data.partition is not None
    )


class CheckEvaluationBuffer:
    """A process's check evaluations not yet handed to storage, in their order."""

    def __init__(self) -> None:
        self._events: list[EventLogEntry] = []
        self._lock = threading.Lock()

    def hold(self, event: EventLogEntry, batch_size: int) -> bool:
        """Keep ``event``; True when the batch is full and should be flushed."""
        with self._lock:
            self._events.append(event)
            return len(self._events) >= batch_size

    def flush(self, handle: Callable[..., None]) -> None:
        """Hand the held events to ``handle(event, batch_metadata=...)`` as one batch."""
        with self._lock:
            if not self._events:
                return
            events, self._events = self._events, []
        batch_id = generate_event_batch_id()
        for i, event in enumerate(events):
            handle(event, batch_metadata=DagsterEventBatchMetadata(batch_id, i == len(events) - 1))


def _naive_utc(timestamp: float) -> datetime:
    # What Dagster stores: a UTC datetime without its zone.
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def _execution_values(event: EventLogEntry, event_id: int) -> dict[str, Any]:
    """The execution row's values for an evaluation, as Dagster's ``_update_asset_check_evaluation``."""
    evaluation = event.get_dagster_event().asset_check_evaluation_data
    target = evaluation.target_materialization_data
    return {
        "execution_status": (
            AssetCheckExecutionRecordStatus.SUCCEEDED.value
            if evaluation.passed
            else AssetCheckExecutionRecordStatus.FAILED.value
        ),
        "evaluation_event": serialize_value(event),
        "evaluation_event_timestamp": _naive_utc(event.timestamp),
        "evaluation_event_storage_id": event_id,
        "materialization_event_storage_id": target.storage_id if target else None,
        "partition": evaluation.partition,
    }


def _insert_events(storage: Any, conn: db.Connection, events: Sequence[EventLogEntry]) -> list[int]:
    """``events`` in the event log in one INSERT, on ``conn``: their storage ids, in order."""
    insert = storage.prepare_insert_event_batch(events).returning(SqlEventLogStorageTable.c.id)
    ids = [int(row[0]) for row in conn.execute(insert)]
    if len(ids) != len(events):
        raise DagsterInvariantViolationError(f"stored {len(ids)} of {len(events)} events of a batch")
    return ids


def store_check_evaluations(storage: Any, events: Sequence[EventLogEntry]) -> None:
    """Write ``events`` (each :func:`is_batchable_check_evaluation`) to ``storage``, a
    dagster-postgres event log storage, in one transaction: a batch that fails leaves nothing, and
    Dagster then stores its events one at a time."""
    with storage.index_transaction() as conn:
        _store_check_evaluations(conn, events, _insert_events(storage, conn, events))


def _store_check_evaluations(conn: db.Connection, events: Sequence[EventLogEntry], ids: list[int]) -> None:
    """Each evaluation's execution row: its planned row updated, or a row inserted where none was."""
    by_check: dict[tuple[str, str, str], list[tuple[EventLogEntry, int]]] = defaultdict(list)
    for event, event_id in zip(events, ids, strict=True):
        evaluation = event.get_dagster_event().asset_check_evaluation_data
        check_key = (evaluation.asset_key.to_string(), evaluation.check_name, str(event.run_id))
        by_check[check_key].append((event, event_id))

    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for (asset_key, check_name, run_id), evaluated in by_check.items():
        planned = _planned_rows(conn, asset_key, check_name, run_id)
        for event, event_id in evaluated:
            values = _execution_values(event, event_id)
            partition = values["partition"]
            if planned.get(partition, 0) > 1:
                raise DagsterInvariantViolationError(
                    f"{planned[partition]} planned rows for {asset_key} {check_name} {partition} in run"
                    f" {run_id}: duplicate AssetCheckEvaluationPlanned events"
                )
            if partition in planned:
                updates.append({**{f"new_{k}": v for k, v in values.items()}, "b_asset_key": asset_key,
                                "b_check_name": check_name, "b_run_id": run_id, "b_partition": partition})  # fmt: skip
            else:
                inserts.append({**values, "asset_key": asset_key, "check_name": check_name, "run_id": run_id})
    if updates:
        conn.execute(_UPDATE, updates)
    if inserts:
        conn.execute(Executions.insert().values(inserts))


def _planned_rows(conn: db.Connection, asset_key: str, check_name: str, run_id: str) -> dict[str, int]:
    """How many execution rows each partition has for a check in a run (one, planned at step start)."""
    query = (
        db.select(Executions.c.partition, db.func.count())
        .where(
            Executions.c.asset_key == asset_key,
            Executions.c.check_name == check_name,
            Executions.c.run_id == run_id,
            Executions.c.partition.is_not(None),
        )
        .group_by(Executions.c.partition)
    )
    return {str(partition): int(count) for partition, count in conn.execute(query)}


_COLUMNS = (
    "execution_status",
    "evaluation_event",
    "evaluation_event_timestamp",
    "evaluation_event_storage_id",
    "materialization_event_storage_id",
    "partition",
)
_UPDATE = (
    Executions.update()
    .where(
        Executions.c.asset_key == db.bindparam("b_asset_key"),
        Executions.c.check_name == db.bindparam("b_check_name"),
        Executions.c.run_id == db.bindparam("b_run_id"),
        Executions.c.partition == db.bindparam("b_partition"),
    )
    .values({column: db.bindparam(f"new_{column}") for column in _COLUMNS})
)


def store_planned(storage: Any, events: Sequence[EventLogEntry]) -> None:
    """Write a run's planned events (each :func:`is_planned`) to ``storage``, a dagster-postgres
    event log storage: what its ``store_event`` does for each, in one transaction: one INSERT, one
    update of each asset's row, the planned checks' rows. A batch that fails leaves nothing, and
    Dagster then stores its events one at a time."""
    with storage.index_transaction() as conn:
        ids = _insert_events(storage, conn, events)
        planned = [(e, i) for e, i in zip(events, ids, strict=True) if e.dagster_event_type in ASSET_EVENTS]
        storage._store_asset_event_tags(conn, [e for e, _ in planned], [i for _, i in planned])
        last_by_asset: dict[Any, tuple[EventLogEntry, int]] = {}
        for event, event_id in planned:
            last_by_asset[event.get_dagster_event().asset_key] = (event, event_id)
        for event, event_id in last_by_asset.values():
            storage._store_asset_event(conn, event, event_id)
        checks = [
            row
            for event, event_id in zip(events, ids, strict=True)
            if event.dagster_event_type == DagsterEventType.ASSET_CHECK_EVALUATION_PLANNED
            for row in _planned_check_rows(event, event_id)
        ]
        if checks:
            conn.execute(Executions.insert().values(checks))


def _planned_check_rows(event: EventLogEntry, event_id: int) -> list[dict[str, Any]]:
    """A planned check's execution rows, one per partition it will check, as Dagster's
    ``_store_asset_check_evaluation_planned`` writes them."""
    planned = event.get_dagster_event().asset_check_planned_data
    keys = planned.partitions_subset.get_partition_keys() if planned.partitions_subset else [None]
    return [
        {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "partition": key,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event": serialize_value(event),
            "evaluation_event_timestamp": _naive_utc(event.timestamp),
            "evaluation_event_storage_id": event_id,
        }
        for key in keys
    ]
