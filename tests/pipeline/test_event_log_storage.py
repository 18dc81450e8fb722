"""The instance in dagster.yaml stores Dagster's events in PostgreSQL through one held connection
(sensors/event_log.py) instead of one new connection per event, and stores and reads them as
dagster-postgres does."""

import shutil
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import sqlalchemy

from sensors.event_log import POOL_SIZE, PooledPostgresEventLogStorage

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


def test_a_connection_the_server_dropped_is_replaced(instance: dg.DagsterInstance, pg_url: str) -> None:
    storage = instance.event_log_storage
    with storage.index_connection() as conn:
        pid = conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar()
    with psycopg.connect(pg_url, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    job = dg.Definitions(assets=[numbered]).resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance, partition_key="p4").success


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
