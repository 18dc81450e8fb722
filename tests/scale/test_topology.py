"""`kedah-analytics serve`: the code location's gRPC server, the webserver and the daemon as three
processes sharing the PostgreSQL instance; a run launched through the webserver's GraphQL API is
queued, dequeued by the daemon, executed from the code server's code, and succeeds."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
from conftest import ROOT
from dagster_ui import LAUNCH, LOCATION, free_port, stop_instigators
from dagster_ui import graphql as graphql_at


def graphql(port: int, query: str, variables: dict | None = None) -> dict:
    return graphql_at(f"http://127.0.0.1:{port}", query, variables)


@pytest.fixture
def topology(pg_url: str, tmp_path: Path) -> Iterator[int]:
    """`kedah-analytics serve` on free ports; every process it started is gone afterwards."""
    home = tmp_path / "kedah_home"
    (home / "deploy").mkdir(parents=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    shutil.copy(ROOT / "deploy" / "workspace.grpc.yaml", home / "deploy" / "workspace.grpc.yaml")
    port, code_port = free_port(), free_port()
    log = tmp_path / "serve.log"
    env = {**os.environ, "KEDAH_PG_URL": pg_url, "KEDAH_HOME": str(home)}
    env.pop("DAGSTER_HOME", None)
    with open(log, "wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "kedah_analytics.cli", "serve", "--port", str(port), "--code-port", str(code_port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    children: set[psutil.Process] = set()
    try:
        deadline = time.monotonic() + 180
        while "Ctrl-C stops all three" not in log.read_text(errors="replace"):
            children |= set(psutil.Process(serve.pid).children(recursive=True))
            if serve.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"kedah-analytics serve did not come up:\n{log.read_text(errors='replace')[-3000:]}"
                )
            time.sleep(0.5)
        children |= set(psutil.Process(serve.pid).children(recursive=True))
        assert len([c for c in children if c.ppid() == serve.pid]) == 3  # code server, webserver, daemon
        yield port
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(serve.pid, signal.SIGKILL)
                serve.wait(timeout=10)
        for child in children:  # what `serve` could not stop, the test does
            if child.is_running():
                child.kill()


def test_a_run_launched_through_the_webserver_succeeds_on_the_three_process_topology(topology, pg_url):
    data = graphql(topology, "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                             "displayMetadata { key value } } } } }")  # fmt: skip
    (entry,) = data["workspaceOrError"]["locationEntries"]
    assert entry["name"] == "kedah_analytics" and entry["loadStatus"] == "LOADED"
    # Loaded from the gRPC server, not imported by the webserver itself.
    assert {m["key"] for m in entry["displayMetadata"]} >= {"host", "port"}
    # The project's schedules and sensors are on by default; turned off here (as in the UI) so
    # that only this test's run competes for the machine.
    stop_instigators(f"http://127.0.0.1:{topology}")

    launched = graphql(topology, LAUNCH, {"p": {"selector": {**LOCATION, "jobName": "refresh_places"},
                                                "runConfigData": {}}})["launchRun"]  # fmt: skip
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.monotonic() + 240
    status = "QUEUED"
    while status not in ("SUCCESS", "FAILURE", "CANCELED") and time.monotonic() < deadline:
        time.sleep(1)
        query = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
        status = graphql(topology, query, {"id": run_id})["runOrError"]["status"]
    assert status == "SUCCESS"
    health = graphql(topology, "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy } } } }")
    statuses = {
        d["daemonType"]: d["healthy"] for d in health["instance"]["daemonHealth"]["allDaemonStatuses"]
    }
    assert statuses["QUEUED_RUN_COORDINATOR"] and statuses["SCHEDULER"]
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT count(*) FROM kedah.places").fetchone()[0] > 0
