"""Notice a run whose worker died, so it is failed, alerted and its pool slots freed.

Dagster's default run launcher cannot tell whether a run worker is still alive, so a worker
killed mid-run (OOM killer, ``kill -9``, a reboot) left its run STARTED forever: no alert, and a
``source_api`` pool slot held for good. This launcher is the default one plus that check, for
every run whatever launched it: the worker's host and pid come from the run's tags, which
``sensors.instance.KedahInstance`` sets as the run starts (the daemon's workers,
``kedah-analytics seed`` and ``backfill``, ``dagster asset materialize``), or else from the run's
"Started process for run" event. With ``run_monitoring`` in dagster.yaml the daemon asks it every
poll, marks a run with a dead worker failed (which fires ``report_failed_runs``), and frees the
slots of ended runs; step processes the dead worker left behind (the multiprocess executor's) are
ended too. A worker on another host is never judged from here.

It fits the single-machine deployment the project ships; on Kubernetes or Celery the
deployment's own launcher does this check.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from dagster._core.launcher.base import CheckRunHealthResult, WorkerStatus

from sensors.instance import WORKER_HOST_TAG, WORKER_PID_TAG, this_host

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


@dataclass(frozen=True)
class Worker:
    """The process that executes a run: its host and pid."""

    host: str
    pid: int


def run_worker(instance: dg.DagsterInstance, run: dg.DagsterRun) -> Worker | None:
    """The run's worker: from its tags (any launch path), else the launcher's own engine event
    (this host); None before it started."""
    host, pid = run.tags.get(WORKER_HOST_TAG), run.tags.get(WORKER_PID_TAG)
    if host and pid and pid.isdigit():
        return Worker(host, int(pid))
    launched = worker_pid(instance, run.run_id)
    return Worker(this_host(), launched) if launched is not None else None


def step_process_pids(instance: dg.DagsterInstance, run_id: str) -> list[int]:
    """Pids of the run's step processes (the multiprocess executor's), from their own events."""
    pids = []
    for record in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_WORKER_STARTED):
        event = record.dagster_event
        value = event.engine_event_data.metadata.get("pid") if event is not None else None
        if value is not None and str(value.value).isdigit():
            pids.append(int(str(value.value)))
    return pids


def end_orphans(pids: list[int], since: float) -> list[int]:
    """SIGKILL the live processes among ``pids`` started no earlier than ``since`` (a pid the
    system gave to an older process since is not one of them); the pids killed."""
    killed = []
    for pid in pids:
        started = process_start_time(pid)
        if started is None or started < since - 1 or not process_alive(pid):
            continue
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    return killed


def process_start_time(pid: int) -> float | None:
    """When ``pid`` started (seconds since the epoch), from /proc; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        boot = next(
            float(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
            if line.startswith("btime ")
        )  # fmt: skip
    except (OSError, IndexError, StopIteration, ValueError):
        return None
    return boot + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def worker_pid(instance: dg.DagsterInstance, run_id: str) -> int | None:
    """The pid of the run's worker process started by a launcher, from its own engine event
    (None before it started, or when no launcher started it)."""
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
        worker = run_worker(self._instance, run)
        if worker is None:
            # Not started yet: never fail a run on a guess.
            return CheckRunHealthResult(WorkerStatus.RUNNING, "worker pid not recorded yet")
        if worker.host != this_host():
            return CheckRunHealthResult(
                WorkerStatus.RUNNING, f"run worker pid {worker.pid} is on {worker.host}: not checked here"
            )
        pid = worker.pid
        if process_alive(pid):
            return CheckRunHealthResult(WorkerStatus.RUNNING, f"run worker pid {pid} is alive")
        # Failed by its code server meanwhile: the daemon sees the run's status changed and leaves it.
        wait_for_run_end(self._instance, run.run_id, DEATH_GRACE_S)
        record = self._instance.get_run_record_by_id(run.run_id)
        # A re-execution starts with its parent's tags until its own worker tags it, a moment after
        # it turns STARTED: a worker named meanwhile is the run's real one, and it is checked next poll.
        if record is not None and run_worker(self._instance, record.dagster_run) != worker:
            return CheckRunHealthResult(WorkerStatus.RUNNING, "the run's worker changed; checked next poll")
        started = record.start_time if record is not None and record.start_time else 0.0
        orphans = end_orphans(step_process_pids(self._instance, run.run_id), started)
        ended = f"; ended its step processes {', '.join(map(str, orphans))}" if orphans else ""
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"the run worker process (pid {pid}) died: killed or crashed mid-run{ended}",
        )
