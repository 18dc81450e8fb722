"""A ranged backfill through Dagster's Celery executor with real workers on a real RabbitMQ,
against the same work run in-process: the same rows, also when a worker dies half-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import dagster as dg
import psycopg
import pytest
from conftest import ROOT, snapshot  # tests/scale/conftest.py
from databases import empty_warehouse

FIRST, LAST, PLATFORMS = "2026-06-01", "2026-06-02", "twitter,youtube"
BACKFILL_TIMEOUT_S = 300


@pytest.fixture(scope="module")
def in_process_rows(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    """The backfill's rows when every run executes in this process (no broker, no workers)."""
    from assets.common.runs import range_tags
    from kedah_analytics.definitions import defs

    empty_warehouse(pg_url)
    home = tmp_path_factory.mktemp("in_process_home")
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = [("refresh_places", {})]
        runs += [("collect_posts", range_tags(f"{FIRST}|{p}", f"{LAST}|{p}")) for p in PLATFORMS.split(",")]
        runs.append(("daily_metrics", range_tags(FIRST, LAST)))
        for name, tags in runs:
            assert defs.resolve_job_def(name).execute_in_process(instance=instance, tags=tags).success
    rows = snapshot(pg_url)
    empty_warehouse(pg_url)
    return rows


def finish(process: subprocess.Popen) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=BACKFILL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        out, err = process.communicate(timeout=30)
        pytest.fail(f"the backfill did not finish within {BACKFILL_TIMEOUT_S}s:\n{err[-3000:]}")
    return process.returncode, out, err


def summary(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def step_executions(pg_url: str) -> list[tuple[str, str]]:
    """(step key, Celery worker) for every step a worker began, in order, from Dagster's event log."""
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            "SELECT event FROM event_logs WHERE dagster_event_type = 'ENGINE_EVENT' "
            "AND event LIKE '%%in celery worker%%' ORDER BY id"
        ).fetchall()
    executions = []
    for (event,) in rows:
        body = json.loads(event)["dagster_event"]
        entries = body["event_specific_data"]["metadata_entries"]
        worker = next(e["entry_data"]["text"] for e in entries if e["label"] == "Celery worker")
        executions.append((body["step_key"], worker.split("@")[0]))
    return executions


def test_a_backfill_on_two_celery_workers_writes_exactly_the_in_process_rows(
    celery_cluster, in_process_rows, pg_url
):
    cluster = celery_cluster()
    cluster.start_workers("w1", "w2")
    code, out, err = finish(cluster.backfill(FIRST, LAST, PLATFORMS, stdout=subprocess.PIPE,
                                             stderr=subprocess.PIPE, text=True))  # fmt: skip
    assert code == 0, err[-3000:]
    result = summary(out)
    # places; raw posts of each platform, then their classification (a run for X and YouTube,
    # neighbours: definitions.post_runs); daily metrics
    assert result["executor"] == "celery" and result["runs"] == 1 + len(PLATFORMS.split(",")) + 1 + 1
    assert snapshot(pg_url) == in_process_rows
    assert sum(len(v) for v in in_process_rows.values()) > 0
    # Every step ran on one of this test's workers, and both took steps.
    mine = {cluster.node_name("w1"), cluster.node_name("w2")}
    executions = [e for e in step_executions(pg_url) if e[1] in mine]
    assert len(executions) == result["steps"]
    assert {worker for _, worker in executions} == mine


def test_a_worker_killed_mid_step_loses_and_duplicates_nothing(celery_cluster, in_process_rows, pg_url):
    cluster = celery_cluster()
    cluster.start_workers("w1", "w2")
    backfill = cluster.backfill(
        FIRST, LAST, PLATFORMS, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    # The first worker to receive a step is killed outright (SIGKILL, the worker and its pool
    # process), while that step is running: no chance to finish or acknowledge it.
    deadline = time.monotonic() + 120
    victim = None
    while victim is None:
        assert backfill.poll() is None, "the backfill ended before any worker received a step"
        assert time.monotonic() < deadline, "no worker received a step within 120s"
        victim = next((n for n in ("w1", "w2") if "Task execute_plan[" in cluster.log(n)), None)
        time.sleep(0.05)
    os.killpg(cluster.workers[victim].pid, signal.SIGKILL)
    cluster.workers[victim].wait(timeout=30)
    killed_before_done = "succeeded in" not in cluster.log(victim)
    code, out, err = finish(backfill)
    if code != 0:
        # Failing is allowed, but clearly, and a re-run must then give the same rows.
        assert "failed" in err, err[-3000:]
        code, out, err = finish(cluster.backfill(FIRST, LAST, PLATFORMS, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, text=True))  # fmt: skip
        assert code == 0, err[-3000:]
    assert snapshot(pg_url) == in_process_rows
    # Whatever the killed worker had begun was run again, to the end, by the survivor.
    executions = step_executions(pg_url)
    victim_name = cluster.node_name(victim)
    survivor_name = cluster.node_name("w2" if victim == "w1" else "w1")
    for index, (step, worker) in enumerate(executions):
        if worker == victim_name:
            assert (step, survivor_name) in executions[index:], f"{step} was never re-run after the kill"
    assert killed_before_done or any(w == victim_name for _, w in executions)
