"""Talking to a running Dagster webserver as the UI does: its GraphQL API on a local port."""

from __future__ import annotations

import json
import socket
import urllib.request

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
