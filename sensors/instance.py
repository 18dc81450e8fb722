"""The Dagster instance dagster.yaml names: PostgreSQL storage with the warehouse's timeouts, and
every run tagged with the host and pid of the process that executes it.

Two things every Dagster process needs whatever started it (webserver, daemon, code server, the
``dagster`` and ``kedah-analytics`` commands, run workers), so they live in the instance that all of
them load from dagster.yaml rather than in any one command:

- :class:`PostgresStorage` is dagster-postgres' storage on ``KEDAH_PG_URL`` with the session
  parameters of :mod:`kedah_analytics.warehouse.connection` (connect and statement timeouts,
  keepalives), and a first connection that fails within the connect timeout naming host, port and
  database, instead of Dagster's retries hanging a process for minutes on a server that never
  answers. Its event log, run and schedule storages keep a few connections open rather than opening
  one per query (:mod:`sensors.pooled_storage`).
- :class:`KedahInstance` tags each run, as it starts, with the host and pid of its run worker
  (``kedah/worker_host``, ``kedah/worker_pid``): the daemon's worker, ``kedah-analytics seed`` or
  ``backfill``, ``dagster asset materialize`` alike. ``sensors.run_worker`` reads them to fail a run
  whose worker died. It also writes the events Dagster marks as a batch (a ranged run's
  materializations, one per partition) in one statement rather than one event at a time
  (:data:`EVENT_BATCH_SIZE`), and with :mod:`sensors.event_batches` two kinds Dagster's PostgreSQL
  storage wrote one at a time: a run's planned events and a check step's per-partition results.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import dagster as dg
from dagster._serdes import ConfigurableClassData
from dagster._utils.interrupts import raise_interrupts_as
from dagster_postgres import DagsterPostgresStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from kedah_analytics.warehouse.connection import connect, with_timeouts
from sensors.event_batches import CheckEvaluationBuffer, is_batchable_check_evaluation
from sensors.pooled_storage import (
    PooledPostgresEventLogStorage,
    PooledPostgresRunStorage,
    PooledPostgresScheduleStorage,
)

WORKER_HOST_TAG = "kedah/worker_host"
WORKER_PID_TAG = "kedah/worker_pid"


def this_host() -> str:
    return socket.gethostname()


def worker_tags() -> dict[str, str]:
    """The tags naming this process as a run's worker."""
    return {WORKER_HOST_TAG: this_host(), WORKER_PID_TAG: str(os.getpid())}


def check_reachable(url: str) -> None:
    """Connect once with the project's timeouts: raises WarehouseUnavailable naming the server.

    Dagster's commands (``dagster asset materialize``, run workers) hold SIGINT and SIGTERM until
    their next checkpoint, so a process waiting here for a server that never answers ignored
    SIGTERM; here they interrupt at once."""
    with raise_interrupts_as(KeyboardInterrupt):
        connect(url, autocommit=True).close()


class PostgresStorage(DagsterPostgresStorage):
    """dagster-postgres storage whose every connection has the project's timeouts, with pooled
    event log, run and schedule storages (:mod:`sensors.pooled_storage`) in place of the ones that
    connect per query."""

    def __init__(
        self,
        postgres_url: str,
        should_autocreate_tables: bool = True,
        inst_data: ConfigurableClassData | None = None,
        token_provider: Any = None,
    ):
        # DagsterPostgresStorage.__init__ with the pooled storages, so that the stock ones are not
        # built (each inspects the database's tables) only to be replaced.
        self.postgres_url = postgres_url
        self.should_autocreate_tables = should_autocreate_tables
        self._inst_data = inst_data
        self._run_storage = PooledPostgresRunStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        self._event_log_storage = PooledPostgresEventLogStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        self._schedule_storage = PooledPostgresScheduleStorage(
            postgres_url, should_autocreate_tables, token_provider=token_provider
        )
        super(DagsterPostgresStorage, self).__init__()

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Any) -> PostgresStorage:
        url = pg_url_from_config(config_value)
        check_reachable(url)
        return cls(
            inst_data=inst_data,
            postgres_url=with_timeouts(url),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


# Dagster writes the events it marks as one batch in one INSERT (and one update of the asset's row)
# when the instance's batch size is over 0; Dagster's default is 0, one store_event per event, and
# DAGSTER_EVENT_BATCH_SIZE sets it (0 turns batching off again). A year-long ranged run's 365
# materializations of an asset are one batch.
EVENT_BATCH_SIZE = 1000


class KedahInstance(dg.DagsterInstance):
    """Dagster's instance, recording each run's worker (host and pid) when the run starts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._check_evaluations = CheckEvaluationBuffer()
        super().__init__(*args, **kwargs)

    # What dagster.yaml's `instance_class` asks of a class: no settings of its own, Dagster's defaults.
    @classmethod
    def config_schema(cls) -> dict[str, Any]:
        return {}

    @staticmethod
    def config_defaults(base_dir: str) -> Any:
        from dagster._core.instance.ref import InstanceRef

        return InstanceRef.config_defaults(base_dir)

    def dispose(self) -> None:
        self.flush_check_evaluations()
        super().dispose()
        # Dagster disposes the run and event log storages only; the pooled schedule storage holds
        # connections too (sensors/pooled_storage.py).
        if self._schedule_storage is not None:
            self._schedule_storage.dispose()

    def _get_event_batch_size(self) -> int:
        return int(os.environ.get("DAGSTER_EVENT_BATCH_SIZE", EVENT_BATCH_SIZE))

    def flush_check_evaluations(self) -> None:
        """Write the check evaluations held back (sensors/event_batches.py) as one batch."""
        self._check_evaluations.flush(super().handle_new_event)

    def handle_new_event(self, event: Any, *, batch_metadata: Any = None) -> None:
        batch_size = self._get_event_batch_size()
        if batch_metadata is None and batch_size > 0 and is_batchable_check_evaluation(event):
            if self._check_evaluations.hold(event, batch_size):
                self.flush_check_evaluations()
            return
        # Any other event comes after the evaluations held so far, as it would have.
        self.flush_check_evaluations()
        super().handle_new_event(event, batch_metadata=batch_metadata)
        dagster_event = event.dagster_event
        # RUN_START is reported by the process that executes the run's steps, whoever launched it.
        if dagster_event is not None and dagster_event.event_type == dg.DagsterEventType.RUN_START:
            if event.run_id:
                self.add_run_tags(event.run_id, worker_tags())
