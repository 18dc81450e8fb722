"""Dagster's PostgreSQL event log, holding its connection instead of opening one per event.

dagster-postgres builds its engines with SQLAlchemy's ``NullPool`` so that an idle instance holds
no connection; only the webserver switches to a pool (``optimize_for_webserver``). A run worker
(and an in-process backfill) then opens a new PostgreSQL connection, with its authentication and
backend start, for every event it stores or reads: a ranged run over a year records thousands of
them (step events, one materialization per partition key, check evaluations), and on a 2-core
machine that connection churn was the largest part of Dagster's share (bench/bench_year.py).

This is the same storage with a small pool: the connections in use kept and reused, a few more
while threads overlap (the event watcher), recycled every few minutes. A connection that sat idle
for IDLE_PING_S or more is pinged before use, and replaced if the server dropped it (a restarted
server, an idle-session timeout): that costs one reconnect, not a failed run. One in steady use is
not: SQLAlchemy's ``pool_pre_ping`` pings before every use, a round trip per event that was 13 % of
the event log's time in a year's backfill (bench/bench_year.py, py-spy), and a server does not
restart, nor time a session out, in the second between two of a run's events. Forked processes
(multiprocess or forkserver steps) build their own instance, and so their own engine, from the
instance's config, so no connection crosses a fork. Configured in dagster.yaml's
``event_log_storage``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy
import sqlalchemy.pool as db_pool
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log import PostgresEventLogStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config

# A run worker nests storage calls (a read inside a write's bookkeeping) and the event watcher
# runs in its own thread: a few connections are in use at once. Kept up to POOL_SIZE; more are
# opened, and closed on return, only when threads overlap further.
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


class PooledPostgresEventLogStorage(PostgresEventLogStorage):
    """``PostgresEventLogStorage`` whose engine keeps one connection open (see the module)."""

    def __init__(self, postgres_url: str, should_autocreate_tables: bool = True, **kwargs: Any):
        super().__init__(postgres_url, should_autocreate_tables, **kwargs)
        self._engine.dispose()
        self._engine = create_pg_engine(
            self.postgres_url,
            self._token_provider,
            isolation_level="AUTOCOMMIT",
            poolclass=db_pool.QueuePool,
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            pool_recycle=POOL_RECYCLE_S,
        )
        _ping_if_idle(self._engine)

    @classmethod
    def from_config_value(
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> PooledPostgresEventLogStorage:
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )
