"""What a launched run costs over its work: one partition of raw_posts + classified_posts, run
in-process and launched through a real dagster-webserver's GraphQL API on the Postgres instance
(the path the UI takes: the webserver queues the run, the daemon launches a run process, which
runs the job's executor).

    .venv/bin/python bench/bench_run_overhead.py [--repeat 3]

Prints both wall times (median of the repeats), their ratio, and the target from issue 12:
launched < 2 x in-process + 5 s. Uses KEDAH_PG_URL's server (or the embedded one) with a database
of its own, dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import warnings
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

ROOT = Path(__file__).resolve().parents[1]
warnings.filterwarnings("ignore")

LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on RunConfigValidationInvalid { errors { message } } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


def graphql(port: int, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())["data"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launched_run(port: int, partition: str) -> float:
    params = {
        "selector": {
            "repositoryLocationName": "kedah_analytics",
            "repositoryName": "__repository__",
            "jobName": "collect_posts",
        },
        "runConfigData": {},
        "executionMetadata": {"tags": [{"key": "dagster/partition", "value": partition}]},
    }
    started = time.perf_counter()
    answer = graphql(port, LAUNCH, {"params": params})["launchRun"]
    if answer["__typename"] != "LaunchRunSuccess":
        raise SystemExit(f"launch failed: {answer}")
    run_id = answer["run"]["runId"]
    deadline = started + 600
    while True:
        status = graphql(port, STATUS, {"id": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            break
        if time.perf_counter() > deadline:
            raise SystemExit(f"launched run {run_id} still {status} after 600 s")
        time.sleep(0.2)
    elapsed = time.perf_counter() - started
    if status != "SUCCESS":
        raise SystemExit(f"launched run {run_id} ended {status}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from kedah_analytics.config.paths import resolve_pg_url

    server = resolve_pg_url()
    name = f"kedah_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    home = Path(tempfile.mkdtemp(prefix="kedah_bench_home_"))
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    os.environ.update({"KEDAH_PG_URL": url, "DAGSTER_HOME": str(home), "KEDAH_SOURCE_MODE": "demo"})
    processes: list[subprocess.Popen] = []
    try:
        import dagster as dg

        from kedah_analytics.definitions import defs

        days = [date(2026, 11, 2) + timedelta(days=i) for i in range(2 * args.repeat + 1)]
        with dg.DagsterInstance.get() as instance:
            defs.resolve_job_def("refresh_places").execute_in_process(instance=instance)
            job = defs.resolve_job_def("collect_posts")
            job.execute_in_process(instance=instance, partition_key=f"{days[0]}|twitter")  # warm imports
            in_process = []
            for day in days[1 : args.repeat + 1]:
                started = time.perf_counter()
                assert job.execute_in_process(instance=instance, partition_key=f"{day}|twitter").success
                in_process.append(time.perf_counter() - started)

        port = free_port()
        workspace = str(ROOT / "workspace.yaml")
        # The webserver queues the run; the daemon's run coordinator dequeues and launches it.
        for command in (
            [sys.executable, "-m", "dagster_webserver", "-w", workspace, "-h", "127.0.0.1", "-p", str(port)],
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", workspace],
        ):
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=home,
                    env=os.environ.copy(),
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )  # fmt: skip
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        launched = [launched_run(port, f"{day}|twitter") for day in days[args.repeat + 1 :]]
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)
        shutil.rmtree(home, ignore_errors=True)
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    inp, lau = statistics.median(in_process), statistics.median(launched)
    print("one partition of raw_posts + classified_posts (demo, twitter)")
    print(f"in_process_seconds: {inp:.2f}   (runs: {', '.join(f'{t:.2f}' for t in in_process)})")
    print(f"launched_seconds: {lau:.2f}   (runs: {', '.join(f'{t:.2f}' for t in launched)})")
    print(f"ratio: {lau / inp:.2f}")
    print(f"target_launched_under_seconds: {2 * inp + 5:.2f}  met: {lau < 2 * inp + 5}")


if __name__ == "__main__":
    main()
