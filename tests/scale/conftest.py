"""Real Celery workers on a real RabbitMQ, and the Dagster processes of a deployment.

Every test here starts its processes in their own process groups and stops them at the end, on
failure too. Each test gets a queue of its own, so two test sessions sharing one broker (two
checkouts, CI beside a developer) never take each other's steps.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from kedah_analytics.executors import ExecutorOptions, executor_options
from kedah_analytics.topology import start_worker, stop

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("KEDAH_TEST_CELERY_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")
START_BROKER = (
    "start RabbitMQ on 127.0.0.1:5672 with guest/guest (Debian: `apt-get install rabbitmq-server`; "
    "or `docker run -d -p 5672:5672 rabbitmq:4`), or name another in KEDAH_TEST_CELERY_BROKER"
)
# Tables a backfill writes; the Celery tests compare them row for row.
BACKFILL_TABLES = ("places", "raw_posts", "classified_posts", "place_daily_metrics", "term_daily_counts",
                   "term_hourly_counts", "quarantine")  # fmt: skip
# When a row was fetched or first seen is the clock's, not the data's.
CLOCK_COLUMNS = {"fetched_at", "first_seen_at", "last_seen_at"}


def broker_problem(url: str) -> str | None:
    """Why the broker cannot be used, or None: a TCP connect, then an AMQP login."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5672), timeout=2):
            pass
    except OSError as err:
        return f"no broker at {parts.hostname}:{parts.port or 5672} ({err})"
    from kombu import Connection

    try:
        with Connection(url, connect_timeout=5) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as err:  # any refusal means the same to the tests: no usable broker
        return f"the broker at {parts.hostname}:{parts.port or 5672} refused the login ({type(err).__name__})"
    return None


@pytest.fixture(scope="session")
def broker_url() -> str:
    pytest.importorskip("dagster_celery", reason="the `celery` extra: pip install -e '.[celery]'")
    if problem := broker_problem(BROKER):
        pytest.skip(f"{problem}: {START_BROKER}")
    return BROKER


def snapshot(url: str) -> dict[str, list[tuple]]:
    """Every row of the backfill's tables, clock columns left out, in a stable order."""
    rows: dict[str, list[tuple]] = {}
    with psycopg.connect(url) as conn:
        for table in BACKFILL_TABLES:
            columns = [
                name
                for (name,) in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = 'kedah' "
                    "AND table_name = %s ORDER BY ordinal_position",
                    (table,),
                )
                if name not in CLOCK_COLUMNS
            ]
            select = ", ".join(f'"{c}"::text' for c in columns)
            rows[table] = sorted(
                conn.execute(f"SELECT {select} FROM kedah.{table}").fetchall(),
                key=lambda r: [str(v) for v in r],
            )
    return rows


@dataclass
class CeleryCluster:
    """The environment of a Celery deployment on this machine, and its workers."""

    options: ExecutorOptions
    home: Path
    env: dict[str, str]
    logs: Path
    workers: dict[str, subprocess.Popen] = field(default_factory=dict)

    def start_workers(self, *names: str, timeout_s: float = 120.0) -> None:
        """Start the workers side by side (each imports Dagster and the project for seconds), then
        wait until every one of them says it is ready."""
        for name in names:
            with open(self.logs / f"{name}.log", "wb") as out:
                self.workers[name] = start_worker(self.options, dagster_home=self.home, cwd=ROOT, env=self.env,
                                                  name=self.node_name(name), output=out.fileno())  # fmt: skip
        deadline = time.monotonic() + timeout_s
        for name in names:
            worker = self.workers[name]
            while " ready." not in self.log(name):
                if worker.poll() is not None:
                    pytest.fail(f"worker {name} exited with {worker.returncode}:\n{self.log(name)[-3000:]}")
                if time.monotonic() > deadline:
                    pytest.fail(
                        f"worker {name} was not ready within {timeout_s:.0f}s:\n{self.log(name)[-3000:]}"
                    )
                time.sleep(0.3)

    def node_name(self, name: str) -> str:
        """The worker's Celery name: unique to this cluster, so the event log tells workers apart."""
        return f"{name}-{self.options.queue[-6:]}"

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(errors="replace")

    def backfill(self, first: str, last: str, platforms: str, **popen: object) -> subprocess.Popen:
        """`kedah-analytics backfill` on the Celery executor, as its own process group."""
        command = [sys.executable, "-m", "kedah_analytics.cli", "backfill", "--start", first, "--end", last,
                   "--platforms", platforms, "--json"]  # fmt: skip
        return subprocess.Popen(command, cwd=ROOT, env=self.env, start_new_session=True, **popen)  # type: ignore[call-overload]

    def stop(self) -> None:
        stop(list(self.workers.values()), timeout_s=20)


@pytest.fixture
def celery_cluster(broker_url: str, pg_url: str, tmp_path: Path) -> Iterator[Callable[[], CeleryCluster]]:
    """A factory for one cluster per test: a queue of its own, the session's PostgreSQL as
    Dagster's storage and the warehouse; stops every worker at the end and drops the queue."""
    clusters: list[CeleryCluster] = []
    queue = f"kedah_test_{uuid.uuid4().hex[:10]}"

    def make() -> CeleryCluster:
        home = tmp_path / "kedah_home"
        (home / ".dagster").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        shutil.copy(ROOT / "dagster.yaml", home / ".dagster" / "dagster.yaml")
        env = {**os.environ, "KEDAH_PG_URL": pg_url, "KEDAH_HOME": str(home), "DAGSTER_HOME": str(home / ".dagster"),
               "KEDAH_EXECUTOR": "celery", "KEDAH_CELERY_BROKER": broker_url, "KEDAH_CELERY_QUEUE": queue}  # fmt: skip
        cluster = CeleryCluster(executor_options(env), home / ".dagster", env, tmp_path)
        clusters.append(cluster)
        return cluster

    try:
        yield make
    finally:
        for cluster in clusters:
            cluster.stop()
        from kombu import Connection

        with Connection(broker_url, connect_timeout=5) as connection:
            try:
                connection.default_channel.queue_delete(queue)
            except Exception:  # a queue that was never declared is nothing to clean up
                pass
