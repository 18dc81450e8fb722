"""The instance in dagster.yaml stores Dagster's events, runs and schedule state in PostgreSQL
through a few held connections (sensors/pooled_storage.py) instead of one new connection per query,
and stores and reads them as dagster-postgres does."""

import gc
import os
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import psycopg
import pytest
import sqlalchemy
from dagster_postgres.auth import PgTokenProvider
from databases import instance_on, new_database

from sensors import pooled_storage
from sensors.pooled_storage import (
    IDLE_PING_S,
    POOL_SIZE,
    PooledPostgresEventLogStorage,
    PooledPostgresRunStorage,
    PooledPostgresScheduleStorage,
)


@dg.asset(partitions_def=dg.StaticPartitionsDefinition([f"p{i}" for i in range(12)]))
def numbered(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    return dg.MaterializeResult(metadata={"partition": context.partition_key})


@pytest.fixture
def database(pg_server_url: str) -> Iterator[str]:
    """A database of this test's own: the process's pools for it start empty."""
    with new_database(pg_server_url, "kedah_pools") as url:
        yield url


@pytest.fixture
def instance(database: str, tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    with instance_on(database, tmp_path) as instance:
        yield instance


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


def test_runs_and_schedule_state_are_stored_through_a_few_held_connections(
    instance: dg.DagsterInstance,
) -> None:
    """What the daemon does all day (read and write runs, ticks and cursors) opens the few
    connections in use at once, not one per query."""
    runs, schedules = instance.run_storage, instance.schedule_storage
    assert isinstance(runs, PooledPostgresRunStorage)
    assert isinstance(schedules, PooledPostgresScheduleStorage)
    connects: list[object] = []
    for storage in (runs, schedules):
        sqlalchemy.event.listen(storage._engine, "connect", lambda *_: connects.append(1))
    job = dg.Definitions(assets=[numbered]).resolve_implicit_global_asset_job_def()
    ids = [job.execute_in_process(instance=instance, partition_key=key).run_id for key in ("p7", "p8")]
    for _ in range(20):
        assert len(instance.get_runs(dg.RunsFilter(run_ids=ids))) == 2
        schedules.all_instigator_state()
        runs.get_cursor_values({"kedah/probe"})
    # dagster-postgres's NullPool would have opened a connection for each of the 60 reads alone.
    assert 0 < len(connects) <= 2 * POOL_SIZE
    assert runs._engine.pool.checkedin() > 0


def test_instances_of_a_process_share_its_pools(database: str, tmp_path: Path) -> None:
    """The code server builds an instance per sensor tick and disposes it after: the next one finds
    the process's pools open and its tables checked, so a tick opens no connection and inspects
    nothing (it used to open several and query the catalog)."""
    connects: list[object] = []
    gc.collect()
    engines_before = len(pooled_storage._ENGINES)

    def tick(instance: dg.DagsterInstance) -> None:  # what a sensor tick reads
        assert instance.get_runs(limit=1) == []
        instance.schedule_storage.all_instigator_state()
        instance.event_log_storage.get_asset_records([dg.AssetKey("numbered")])

    with instance_on(database, tmp_path) as first:
        tick(first)
        engines = {s._engine for s in (first.run_storage, first.event_log_storage, first.schedule_storage)}
    for engine in engines:
        sqlalchemy.event.listen(engine, "connect", lambda *_: connects.append(1))
    for _ in range(5):
        with instance_on(database, tmp_path) as instance:
            storages = (instance.run_storage, instance.event_log_storage, instance.schedule_storage)
            assert {s._engine for s in storages} == engines
            tick(instance)
    assert connects == []
    gc.collect()
    assert len(pooled_storage._ENGINES) == engines_before + 3  # the fork hook's set does not grow


def test_a_storage_with_a_token_provider_keeps_a_pool_of_its_own(database: str) -> None:
    """Short-lived credentials: such a storage does not share the process's pool, and its dispose
    closes its own."""
    shared = PooledPostgresRunStorage(database)
    own = PooledPostgresRunStorage(database, token_provider=_Token())
    assert own._engine is not shared._engine
    assert PooledPostgresRunStorage(database)._engine is shared._engine
    assert own.get_runs(limit=1) == [] and shared.get_runs(limit=1) == []
    assert own._engine.pool.checkedin() == 1
    own.dispose()
    shared.dispose()
    assert own._engine.pool.checkedin() == 0
    assert shared._engine.pool.checkedin() == 1  # still the process's, for its next instance


def test_the_webservers_own_pool_is_its_own_to_close(database: str) -> None:
    """dagster-webserver gives its run storage a pool of its own (with a statement timeout): the
    storage closes that one on dispose, and leaves the process's shared pool alone."""
    shared = PooledPostgresRunStorage(database)
    webserver = PooledPostgresRunStorage(database)
    webserver.optimize_for_webserver(statement_timeout=5000, pool_recycle=3600, max_overflow=10)
    assert webserver._engine is not shared._engine
    assert webserver.get_runs(limit=1) == [] and shared.get_runs(limit=1) == []
    webserver.dispose()
    assert webserver._engine.pool.checkedin() == 0
    assert shared._engine.pool.checkedin() == 1


class _Token(PgTokenProvider):
    """Short-lived credentials as a cloud's identity would hand them out (the test server trusts
    every local connection, so the token itself is not checked)."""

    def _fetch_token(self) -> tuple[str, float]:
        return "a-short-lived-token", time.time() + 3600


def test_a_forked_child_opens_its_own_connections(instance: dg.DagsterInstance) -> None:
    """A child forked after the parent used the pool does not talk over the parent's sockets."""
    storage = instance.run_storage

    def backend_pid() -> int:
        with storage.connect() as conn:
            return int(conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar_one())

    parent = backend_pid()
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (the child reports through the pipe)
        code = 1
        try:
            os.write(write, str(backend_pid()).encode())
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    answer = os.read(read, 64).decode()
    os.close(read)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0 and answer
    assert int(answer) != parent
    assert backend_pid() == parent  # the parent's connection was left to the parent


def test_a_connection_the_server_dropped_while_idle_is_replaced(
    instance: dg.DagsterInstance, pg_url: str
) -> None:
    """A restarted server or an idle-session timeout: a connection of any of the three storages,
    idle since, is pinged before its next use and replaced; the run and the daemon's reads do not
    notice."""
    events, runs, schedules = instance.event_log_storage, instance.run_storage, instance.schedule_storage
    pids = []
    for held in (events.index_connection(), runs.connect(), schedules.connect()):
        with held as conn:
            pids.append(conn.execute(sqlalchemy.text("SELECT pg_backend_pid()")).scalar())
    with psycopg.connect(pg_url, autocommit=True) as admin:
        for pid in pids:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone() == (True,)
    time.sleep(IDLE_PING_S + 0.2)
    connects: dict[str, list[object]] = {"events": [], "runs": [], "schedules": []}
    for name, storage in zip(connects, (events, runs, schedules), strict=True):
        sqlalchemy.event.listen(storage._engine, "connect", lambda *_, n=name: connects[n].append(1))
    job = dg.Definitions(assets=[numbered]).resolve_implicit_global_asset_job_def()
    result = job.execute_in_process(instance=instance, partition_key="p4")
    assert result.success
    assert "p4" in instance.get_materialized_partitions(dg.AssetKey("numbered"))
    assert instance.get_run_by_id(result.run_id) is not None
    schedules.all_instigator_state()
    assert all(connects.values()), connects  # each dropped connection was replaced


def test_a_connection_in_steady_use_is_not_pinged(
    instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No round trip before each event (SQLAlchemy's pre-ping is off); only a connection idle for
    IDLE_PING_S is pinged. A long idle limit here, so a loaded machine's pauses count as use."""
    engine = instance.event_log_storage._engine
    assert not engine.pool._pre_ping
    pings: list[object] = []
    ping = pooled_storage._ping
    monkeypatch.setattr(pooled_storage, "_ping", lambda connection: (pings.append(1), ping(connection)))
    monkeypatch.setattr(pooled_storage, "IDLE_PING_S", 60.0)
    checkouts: list[object] = []
    sqlalchemy.event.listen(engine, "checkout", lambda *_: checkouts.append(1))
    job = dg.Definitions(assets=[numbered]).resolve_implicit_global_asset_job_def()
    assert job.execute_in_process(instance=instance, partition_key="p5").success
    assert len(checkouts) > 10 and not pings
    monkeypatch.setattr(pooled_storage, "IDLE_PING_S", 0.0)  # now every reuse counts as idle
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
