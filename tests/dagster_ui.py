"""Talking to a running Dagster webserver as the UI does: its GraphQL API on a local port."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LOCATION = {"repositoryLocationName": "kedah_analytics", "repositoryName": "__repository__"}
INSTIGATORS = """query($s: RepositorySelector!) {
  schedulesOrError(repositorySelector: $s) { ... on Schedules { results { id name } } }
  sensorsOrError(repositorySelector: $s) { ... on Sensors { results { id name sensorState { status } } } } }"""
LAUNCH = """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def graphql(url: str, query: str, variables: dict | None = None) -> dict:
    """The ``data`` of a GraphQL answer from the webserver at ``url`` (it must hold no errors)."""
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        body = json.loads(response.read())
    assert "errors" not in body, body["errors"]
    return body["data"]


def stop_instigators(url: str, keep: frozenset[str] = frozenset()) -> dict[str, dict]:
    """Stop every schedule and every sensor but those named in ``keep`` (as a person does in the
    UI), so only a test's own runs compete for the machine; the sensors as they were before."""
    instigators = graphql(url, INSTIGATORS, {"s": LOCATION})
    for schedule in instigators["schedulesOrError"]["results"]:
        graphql(
            url,
            "mutation($id: String!) { stopRunningSchedule(id: $id) { __typename } }",
            {"id": schedule["id"]},
        )
    sensors = {s["name"]: s for s in instigators["sensorsOrError"]["results"]}
    for name, sensor in sensors.items():
        if name not in keep:
            graphql(
                url, "mutation($id: String!) { stopSensor(id: $id) { __typename } }", {"id": sensor["id"]}
            )
    return sensors


@contextmanager
def running_webserver(pg_url: str, home: Path) -> Iterator[str]:
    """A real dagster-webserver on ``home``'s instance and the project's workspace; its URL once
    it answers, stopped after."""
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "KEDAH_PG_URL": pg_url, "KEDAH_SOURCE_MODE": "demo"}
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1",
         "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"webserver exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("webserver did not answer /server_info within 120 s") from None
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
