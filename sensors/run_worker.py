"""Notice a run whose worker died, so it is failed, alerted and its pool slots freed.

Dagster's default run launcher cannot tell whether a run worker is still alive, so a worker
killed mid-run (OOM killer, ``kill -9``, a reboot) left its run STARTED forever: no alert, and a
``source_api`` pool slot held for good. This launcher is the default one plus that check: the
worker's pid (from the run's "Started process for run" event) on this machine. With
``run_monitoring`` in dagster.yaml the daemon asks it every poll, marks a run with a dead worker
failed (which fires ``report_failed_runs``), and frees the slots of ended runs.

It fits the single-machine deployment the project ships; on Kubernetes or Celery the
deployment's own launcher does this check.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

# The code server that launched a worker fails the run itself within half a second of the worker's
# death. A monitor poll can see the dead pid in that half second too; it waits this long for the
# run to end before failing it, so a run gets one failure (and one alert), not two.
DEATH_GRACE_S = 3.0


def wait_for_run_end(instance: dg.DagsterInstance, run_id: str, timeout_s: float) -> bool:
    """Whether the run has finished, or finishes within ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = instance.get_run_by_id(run_id)
        if run is None or run.is_finished:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.2)


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's worker process, from its own engine event (None before it started)."""
    pid = None
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        event = record.dagster_event
        if event is None or not record.message.startswith("Started process for run"):
            continue
        value = event.engine_event_data.metadata.get("pid")
        if value is not None and str(value.value).isdigit():
            pid = int(str(value.value))
    return pid


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, killed but not yet reaped by its parent, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return True
        return state not in ("Z", "X")
    return True


class LocalRunLauncher(dg.DefaultRunLauncher):
    """The default run launcher, able to tell that a run worker on this machine has died."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        pid = worker_pid(self._instance, run.run_id)
        if pid is None:
            # Not started yet (or started elsewhere): never fail a run on a guess.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "worker pid not recorded yet")
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} is alive")
        # Failed by its code server meanwhile: the daemon sees the run's status changed and leaves it.
        wait_for_run_end(self._instance, run.run_id, DEATH_GRACE_S)
        return CheckRunHealthResult(
            WorkerStatus.FAILED, f"the run worker process (pid {pid}) died: killed or crashed mid-run"
        )
