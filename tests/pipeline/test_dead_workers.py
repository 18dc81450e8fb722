"""A run whose worker is killed with SIGKILL is noticed: failed by run monitoring, alerted with the
step it was in, and its pool slot freed, so the next run of the pool is not blocked."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import yaml
from dagster._core.events import EngineEventData
from dagster._core.storage.dagster_run import DagsterRunStatus
from dagster._core.test_utils import create_run_for_test
from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration
from dagster._daemon.monitoring.run_monitoring import monitor_started_run

from sensors.alerts import report_failed_runs
from sensors.run_worker import LocalRunLauncher, process_alive

ROOT = Path(__file__).resolve().parents[2]


def _project_instance_overrides() -> dict:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    return {k: config[k] for k in ("run_launcher", "run_monitoring", "concurrency")}


def test_the_project_instance_uses_the_launcher_that_checks_workers():
    with dg.instance_for_test(overrides=_project_instance_overrides()) as instance:
        assert isinstance(instance.run_launcher, LocalRunLauncher)
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0


def _worker() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


def test_a_killed_worker_fails_its_run_alerts_and_frees_its_slot(monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr("sensors.alerts.post_webhook", lambda url, text: sent.append(text))
    monkeypatch.setenv("KEDAH_ALERT_WEBHOOK", "http://alerts.invalid/hook")
    with dg.instance_for_test(overrides=_project_instance_overrides()) as instance:
        instance.event_log_storage.set_concurrency_slots("source_api", 1)
        run = create_run_for_test(instance, job_name="collect_posts", status=DagsterRunStatus.STARTED)
        worker = _worker()
        instance.report_engine_event(
            f"Started process for run (pid: {worker.pid}).", run, EngineEventData.in_process(worker.pid)
        )
        instance.report_dagster_event(
            dg.DagsterEvent(
                event_type_value=dg.DagsterEventType.STEP_START.value,
                job_name=run.job_name,
                step_key="raw_posts",
                message="Started execution of step raw_posts.",
            ),
            run_id=run.run_id,
        )
        # The step holds the pool's only slot, as raw_posts does while it calls the APIs.
        claim = instance.event_log_storage.claim_concurrency_slot("source_api", run.run_id, "raw_posts")
        assert claim.is_claimed

        record = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))[0]
        monitor_started_run(instance, None, record, logging.getLogger("test"))  # type: ignore[arg-type]
        assert instance.get_run_by_id(run.run_id).status == DagsterRunStatus.STARTED  # alive: left alone

        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert not process_alive(worker.pid)
        record = instance.get_run_records(dg.RunsFilter(run_ids=[run.run_id]))[0]
        monitor_started_run(instance, None, record, logging.getLogger("test"))  # type: ignore[arg-type]
        failed = instance.get_run_by_id(run.run_id)
        assert failed.status == DagsterRunStatus.FAILURE

        failure = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0].dagster_event
        context = dg.build_run_status_sensor_context(
            sensor_name="report_failed_runs", dagster_instance=instance, dagster_run=failed,
            dagster_event=failure,
        ).for_run_failure()  # fmt: skip
        report_failed_runs(context)
        assert len(sent) == 1 and "it was in: raw_posts" in sent[0] and "died" in sent[0]

        # The slot is freed once the run has ended (free_slots_after_run_end_seconds).
        monkeypatch.setitem(instance.run_monitoring_settings, "free_slots_after_run_end_seconds", -1)
        list(execute_concurrency_slots_iteration(_WorkspaceContext(instance), logging.getLogger("test")))
        other = create_run_for_test(instance, job_name="collect_posts", status=DagsterRunStatus.STARTED)
        assert instance.event_log_storage.claim_concurrency_slot(
            "source_api", other.run_id, "raw_posts"
        ).is_claimed


class _WorkspaceContext:
    """What the slot-freeing iteration reads: the instance."""

    def __init__(self, instance: dg.DagsterInstance):
        self.instance = instance
