"""Dagster's PostgreSQL storages (event log, runs, schedules), holding their connections instead of
opening one per query.

dagster-postgres builds its engines with SQLAlchemy's ``NullPool`` so that an idle instance holds
no connection; only the webserver switches to a pool (``optimize_for_webserver``). Every other
process then opens a new PostgreSQL connection, with its authentication and backend start (about
4 ms of CPU between client and server on this project's 2-core machine), for every query:

- a run worker for every event it stores or reads: a ranged run over a year records thousands of
  them (step events, one materialization per partition key, check evaluations), and that churn
  was the largest part of Dagster's share of a year's backfill (bench/bench_year.py);
- the daemon for every run, tick and cursor it reads or writes: an idle daemon on the project's
  dagster.yaml opened 738 connections a minute, day and night (``dagster-daemon run`` for 60 s under
  process accounting).

These are the same storages with a small pool: the connections in use kept and reused, a few more
while threads overlap (the daemon's threads, the event watcher), recycled every few minutes. A
connection that sat idle for IDLE_PING_S or more is pinged before use, and replaced if the server
dropped it (a restarted server, an idle-session timeout): that costs one reconnect, not a failed
run. One in steady use is not: SQLAlchemy's ``pool_pre_ping`` pings before every use, a round trip
per event that was 13 % of the event log's time in a year's backfill (bench/bench_year.py, py-spy),
and a server does not restart, nor time a session out, in the second between two of a run's
events. No connection crosses a fork: a forked child that inherits an engine drops the parent's
connections without closing them (SQLAlchemy's ``dispose(close=False)``) and opens its own.

A process's instances on one database share these pools, one per storage kind: the code server
builds an instance for every sensor tick (Dagster's ``SensorEvaluationContext.instance``), and each
used to open its own pools, and before them inspect the database's tables, only to close them when
the tick ended: a few new connections and catalog queries a tick, all day. Now the process's first
instance checks the tables and opens the pools; the next ones reuse them, and disposing an instance
leaves them to the others (they close when the process ends). A storage with a token provider
(short-lived credentials) keeps a pool of its own, closed by ``dispose``.
:class:`sensors.instance.PostgresStorage` (dagster.yaml's ``storage``) builds the three.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from collections.abc import Sequence
from typing import Any

import sqlalchemy
import sqlalchemy.pool as db_pool
from dagster._core.event_api import EventLogEntry
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.schedule_storage import PostgresScheduleStorage
from dagster_postgres.utils import create_pg_engine

from sensors.event_batches import (
    is_batchable_check_evaluation,
    is_planned,
    store_check_evaluations,
    store_planned,
)

# A run worker nests storage calls (a read inside a write's bookkeeping), the event watcher runs in
# its own thread and the daemon runs several: a few connections are in use at once. Kept up to
# POOL_SIZE per storage; more are opened, and closed on return, only when threads overlap further.
POOL_SIZE = 4
MAX_OVERFLOW = 4
POOL_RECYCLE_S = 300
# A connection idle this long is pinged before its next use (see the module).
IDLE_PING_S = 1.0


def _ping_if_idle(engine: sqlalchemy.engine.Engine) -> None:
    """SQLAlchemy's custom pessimistic disconnect handling: a ``checkout`` listener that raises
    ``DisconnectionError`` makes the pool drop the connection and check out another (a new one)."""

    @sqlalchemy.event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @sqlalchemy.event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < IDLE_PING_S:
            return  # new, or in steady use
        try:
            _ping(dbapi_connection)
        except Exception as err:  # any failure: the connection is not usable
            raise sqlalchemy.exc.DisconnectionError(f"idle connection dropped: {err}") from err


def _ping(dbapi_connection: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SELECT 1")
    cursor.close()


# Every pooled engine of this process, held weakly: one fork hook for all of them. A hook per
# engine would pile up, since the code server builds an instance (three engines) per sensor tick.
_ENGINES: weakref.WeakSet[sqlalchemy.engine.Engine] = weakref.WeakSet()


def _forget_inherited_pools() -> None:
    """In a child forked from this process, every engine starts with an empty pool: the parent's
    connections stay the parent's (SQLAlchemy's recipe for engines that cross a fork)."""
    for engine in list(_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_forget_inherited_pools)


def pooled_engine(postgres_url: str, token_provider: Any = None) -> sqlalchemy.engine.Engine:
    """dagster-postgres's engine for ``postgres_url`` with the pool this module describes."""
    engine = create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        poolclass=db_pool.QueuePool,
        pool_size=POOL_SIZE,
        max_overflow=MAX_OVERFLOW,
        pool_recycle=POOL_RECYCLE_S,
    )
    _ping_if_idle(engine)
    _ENGINES.add(engine)
    return engine


# The pools this process's instances share: one per storage kind and database (see the module).
_SHARED: dict[tuple[type, str], sqlalchemy.engine.Engine] = {}
_SHARED_LOCK = threading.Lock()


class _Pooled:
    """Mixed into a dagster-postgres storage: the engine is swapped for the process's pooled one
    for this storage kind and database (:func:`pooled_engine`, built and the tables checked by the
    first instance); ``dispose`` closes a pool only if it is the storage's own."""

    _engine: sqlalchemy.engine.Engine
    postgres_url: str
    _token_provider: Any
    should_autocreate_tables: bool

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, **kwargs: Any):
        shareable = kwargs.get("token_provider") is None
        key = (type(self), postgres_url)
        with _SHARED_LOCK:
            shared = _SHARED.get(key) if shareable else None
            # The stock constructor inspects the tables (and creates missing ones) on a NullPool
            # engine: once a process, by the instance that opens the pool.
            super().__init__(postgres_url, should_autocreate_tables and shared is None, **kwargs)  # type: ignore[call-arg]  # the storage's
            self.should_autocreate_tables = should_autocreate_tables
            self._engine.dispose()
            if shared is None:
                shared = pooled_engine(self.postgres_url, self._token_provider)
                if shareable:
                    _SHARED[key] = shared
        self._engine = shared
        self._owns_engine = not shareable

    def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
        # The webserver's storages build a pool of their own, with a statement timeout, in place of
        # the shared one: theirs to close.
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)  # type: ignore[misc]
        self._owns_engine = True

    def dispose(self) -> None:
        super().dispose()  # type: ignore[misc]  # the storage class this is mixed into
        if self._owns_engine:
            self._engine.dispose()


class PooledPostgresEventLogStorage(_Pooled, PostgresEventLogStorage):
    """``PostgresEventLogStorage`` whose engine keeps its connections open (see the module), and
    which writes a batch of check evaluations, or of a run's planned events, in one INSERT and a
    few updates rather than event by event (:mod:`sensors.event_batches`)."""

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        if events and all(is_batchable_check_evaluation(event) for event in events):
            store_check_evaluations(self, events)
            return
        if events and all(is_planned(event) for event in events):
            store_planned(self, events)
            return
        super().store_event_batch(events)


class PooledPostgresRunStorage(_Pooled, PostgresRunStorage):
    """``PostgresRunStorage`` whose engine keeps its connections open (see the module)."""


class PooledPostgresScheduleStorage(_Pooled, PostgresScheduleStorage):
    """``PostgresScheduleStorage`` whose engine keeps its connections open (see the module)."""
