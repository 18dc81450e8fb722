"""Backfilled days flow downstream on their own: the real dagster-daemon evaluates the automation
sensor on the Postgres instance and launches the daily aggregates of past days."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path

import dagster as dg
import psycopg
import pytest

from assets.common.runs import range_tags
from kedah_analytics.definitions import defs
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS

ROOT = Path(__file__).resolve().parents[2]
WORKSPACE = ROOT / "workspace.yaml"
# The project's code location with its sensors evaluated every 5 s (tests/short_intervals.py).
SHORT_INTERVALS_WORKSPACE = ROOT / "tests" / "short_intervals_workspace.yaml"
# dagster-daemon with its backfill loop every 5 s rather than 30 (tests/quick_daemon.py).
QUICK_DAEMON = ROOT / "tests" / "quick_daemon.py"
SENSOR = "metrics_automation"


def _sensor_ticks(instance: dg.DagsterInstance) -> int:
    for state in instance.all_instigator_state():
        if state.instigator_name == SENSOR:
            return len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
    return 0


def _wait(predicate, timeout: float, what: str, daemon: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            pytest.fail(f"dagster-daemon exited while waiting for {what}")
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _rows(url: str, table: str, days: list[date]) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute(f"SELECT count(*) FROM kedah.{table} WHERE date = ANY(%s)", (days,)).fetchone()
    return int(row[0]) if row else 0


@pytest.fixture
def daemon_home(pg_url, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("KEDAH_SOURCE_MODE", "demo")
    return home


@contextmanager
def running_daemon(pg_url: str, home: Path, workspace: Path = WORKSPACE) -> Iterator[subprocess.Popen]:
    """The real dagster-daemon on ``home``'s instance and ``workspace`` (the project's), stopped
    after; its backfill loop runs every 5 s (tests/quick_daemon.py)."""
    env = {**os.environ, "DAGSTER_HOME": str(home), "KEDAH_PG_URL": pg_url, "KEDAH_SOURCE_MODE": "demo"}
    # Its log goes to a file: a pipe nobody reads fills up and stops the daemon mid-tick.
    log = home / "daemon.log"
    with open(log, "wb") as out:
        daemon = subprocess.Popen(
            [sys.executable, str(QUICK_DAEMON), "run", "-w", str(workspace)],
            cwd=home, env=env, stdout=out, stderr=out, start_new_session=True,
        )  # fmt: skip
    try:
        yield daemon
    except BaseException:
        print(log.read_text(errors="replace")[-5000:])  # shown by pytest with the failure
        raise
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass
        # What the daemon started (its code server, busy evaluating a sensor) may outlive it.
        try:
            os.killpg(daemon.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        daemon.wait(timeout=30)


def test_a_backfilled_past_week_is_aggregated_by_the_daemon_without_a_manual_launch(pg_url, daemon_home):
    # The shipped 30 s interval: the four platforms' backfill runs land between two evaluations,
    # which is what "launched together" below counts on (every 5 s, it would see them one by one).
    with running_daemon(pg_url, daemon_home) as daemon:
        with dg.DagsterInstance.get() as instance:
            # The sensor's first evaluation only records where it starts; a backfill after it is new.
            _wait(lambda: _sensor_ticks(instance) >= 1, 180, "the automation sensor's first tick", daemon)
            today = datetime.now(KEDAH_TZ).date()
            days = [today - timedelta(days=d) for d in (9, 8, 7)]
            defs.resolve_job_def("refresh_places").execute_in_process(instance=instance)
            for platform in PLATFORMS:
                result = defs.resolve_job_def("collect_posts").execute_in_process(
                    instance=instance, tags=range_tags(f"{days[0]}|{platform}", f"{days[-1]}|{platform}")
                )
                assert result.success
            assert _rows(pg_url, "place_daily_metrics", days) == 0
            _wait(
                lambda: all(_rows(pg_url, t, days) > 0 for t in ("place_daily_metrics", "term_daily_counts")),
                300,
                "daily metrics and term counts of the backfilled days",
                daemon,
            )
            with psycopg.connect(pg_url) as conn:
                stored_days = {
                    r[0]
                    for r in conn.execute(
                        "SELECT DISTINCT date FROM kedah.place_daily_metrics WHERE date = ANY(%s)", (days,)
                    ).fetchall()
                }
            assert stored_days == set(days)
            launched = [
                r
                for r in instance.get_runs()
                if r.tags.get("dagster/from_automation_condition_evaluation")
                or r.tags.get("dagster/backfill")
            ]
            # Three days of three daily assets, launched together rather than one run per partition.
            assert 1 <= len(launched) <= 3, [r.tags for r in launched]
