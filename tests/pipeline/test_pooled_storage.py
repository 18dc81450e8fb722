"""The instance in dagster.yaml stores Dagster's events in PostgreSQL through one held connection
(sensors/event_log.py) instead of one new connection per event, and stores and reads them as
dagster-postgres does."""

import shutil
import time
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import sqlalchemy

from sensors import event_log
from sensors.event_log import IDLE_PING_S, POOL_SIZE, PooledPostgresEventLogStorage

ROOT = Path(__file__).resolve().parents[2]


@dg.asset(partitions_def=dg.StaticPartitionsDefinition([f"p{i}" for i in range(12)]))
def numbered(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partition": context.partition_key})


@pytest.fixture
def instance(pg_url: str, tmp_path: Path) -> dg.DagsterInstance:
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    return dg.DagsterInstance.from_config(str(tmp_path))


def test_the_instance_uses_the_pooled_event_log(instance: dg.DagsterInstance) -> None:
    assert isinstance(instance.event_log_storage, PooledPostgresEventLogStorage)


def test_a_run_records_its_events_through_one_connection(instance: dg.DagsterInstance) -> None:
    connects: list[object] = []
    engine = instance.event_log_storage._engine
    sqlalchemy.event.listen(engine, "connect", lambda *_: connects.append(1))
    job = dg.Definitions(assets=[numbered]).resolve_implicit_global_asset_job_def()
    for key in ("p1", "p2", "p3"):
        assert job.execute_in_process(instance=instance, partition_key=key).success
    # Each run stores a dozen events and reads some back: the stock NullPool opens a connection
    # for each (dozens here); the pool opens the few that are ever in use at once, and keeps them.
    assert 0 < len(connects) <= POOL_SIZE
    records = instance.fetch_materializations(dg.AssetKey("numbered"), limit=10).records
    assert sorted(r.partition_key for r in records) == ["p1", "p2", "p3"]
    assert {r.asset_materialization.metadata["partition"].value for r in records} == {"p1", "p2", "p3"}


def test_a_connection_the_server_dropped_while_idle_is_replaced(
    instance: dg.DagsterInstance, pg_url: str
) -> None:
    """A restarted server or an idle-session timeout: the connection, idle since, is pinged before
    its next use and replaced; the run does not notice."""
    storage = instance.event_log_storage
    with storage.index_connection() as conn:
        pid = conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    time.sleep(IDLE_PING_S + 0.2)
    connects: list[object] = []
    sqlalchemy.event.listen(storage._engine, "connect", lambda *_: connects.append(1))
    job = dg.Definitions(assets=[numbered]).resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance, partition_key="p4").success
    assert connects  # the dropped connection was replaced
    assert "p4" in instance.get_materialized_partitions(dg.AssetKey("numbered"))


def test_a_connection_in_steady_use_is_not_pinged(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No round trip before each event (SQLAlchemy's pre-ping is off); only a connection idle for
    IDLE_PING_S is pinged. A long idle limit here, so a loaded machine's pauses count as use."""
    engine = instance.event_log_storage._engine
    assert not engine.pool._pre_ping
    pings: list[object] = []
    ping = event_log._ping
    monkeypatch.setattr(event_log, "_ping", lambda connection: (pings.append(1), ping(connection)))
    monkeypatch.setattr(event_log, "IDLE_PING_S", 60.0)
    checkouts: list[object] = []
    sqlalchemy.event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    job = dg.Definitions(assets=[numbered]).resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance, partition_key="p5").success
    assert len(checkouts) > 10 and not pings
    monkeypatch.setattr(event_log, "IDLE_PING_S", 0.0)  # now every reuse counts as idle
    assert job.execute_in_process(instance=instance, partition_key="p6").success
    assert pings


@dg.asset(
    partitions_def=dg.StaticPartitionsDefinition([f"p{i:02d}" for i in range(12)]),
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def ranged(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partitions": len(context.partition_keys)})


def test_a_ranged_runs_materializations_are_written_as_one_batch(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """sensors/instance.py: the events Dagster marks as a batch go to PostgreSQL in one write, and
    each partition still has its own materialization."""
    monkeypatch.delenv("DAGSTER_EVENT_BATCH_SIZE", raising=False)  # the project's default
    storage = instance.event_log_storage
    batches: list[int] = []
    store_event_batch = storage.store_event_batch
    storage.store_event_batch = lambda events: (batches.append(len(events)), store_event_batch(events))[1]  # type: ignore[method-assign]
    job = dg.Definitions(assets=[ranged]).resolve_implicit_global_asset_job_def()
    tags = {"dagster/asset_partition_range_start": "p00", "dagster/asset_partition_range_end": "p11"}
    assert job.execute_in_process(instance=instance, tags=tags).success
    assert 12 in batches  # the twelve materializations, in one write
    records = instance.fetch_materializations(dg.AssetKey("ranged"), limit=20).records
    assert sorted(r.partition_key for r in records) == [f"p{i:02d}" for i in range(12)]
    materialized = instance.get_materialized_partitions(dg.AssetKey("ranged"))
    assert materialized == {f"p{i:02d}" for i in range(12)}
