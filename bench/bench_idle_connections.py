"""What an idle deployment costs PostgreSQL: the three processes of `kedah-analytics serve` (code
server, webserver, daemon) left alone on a database of their own, with the project's instance
(dagster.yaml: pooled storages shared by a process's instances, sensors/pooled_storage.py) and,
in the same run, the baseline: the same dagster.yaml with dagster-postgres's stock storage (a new
connection per query).

    .venv/bin/python bench/bench_idle_connections.py [--seconds 60] [--sensor-interval 5]

For each, over ``--seconds`` after a warm-up: the sessions PostgreSQL started on that database
(``pg_stat_database.sessions``, so the sensors' own warehouse reads count too), the connections
held at the end (``pg_stat_activity``), the runs launched meanwhile (a schedule that fires in the
window launches a run, whose worker opens connections of its own: not idle) and each process's CPU. ``--sensor-interval 5`` serves the
code location the daemon tests use (tests/short_intervals.py: every sensor every 5 s); the default
is the shipped intervals. Uses KEDAH_PG_URL's server, else the embedded one. Ends with
``sessions_per_min: N`` and ``baseline_sessions_per_min: N``.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
warnings.filterwarnings("ignore")

from _db import scratch_database  # noqa: E402

from kedah_analytics.topology import CODE_MODULE, start_topology  # noqa: E402

NAMES = ("code server", "webserver", "daemon")
STOCK_STORAGE = {"postgres": {"postgres_url": {"env": "KEDAH_PG_URL"}}}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_cpu(process: psutil.Process) -> float:
    """CPU seconds of ``process`` and its live children (the code server's gRPC child included)."""
    total = 0.0
    for each in [process, *process.children(recursive=True)]:
        try:
            times = each.cpu_times()
            total += times.user + times.system
        except psutil.Error:
            pass
    return total


# The statistics are read over a connection to the server's own database, so that the reading is
# not one of the sessions and connections it counts.


def sessions(url: str, name: str) -> int:
    with psycopg.connect(_server(url)) as conn:
        row = conn.execute("SELECT sessions FROM pg_stat_database WHERE datname = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


def held(url: str, name: str) -> int:
    with psycopg.connect(_server(url)) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (name,)).fetchone()
    return int(row[0]) if row else 0


def _server(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path="/postgres"))


def runs(url: str) -> int:
    """Runs the deployment has created (a schedule that fires in the window launches one)."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT count(*) FROM runs").fetchone()
    return int(row[0]) if row else 0


def measure(storage: dict[str, Any] | None, args: argparse.Namespace) -> dict[str, Any]:
    """One deployment, idle: its sessions a minute, connections held, CPU per process."""
    with scratch_database("kedah_idle") as url, tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
        if storage is not None:
            config["storage"] = storage
        (home / "dagster.yaml").write_text(yaml.safe_dump(config))
        env = {**os.environ, "DAGSTER_HOME": str(home), "KEDAH_PG_URL": url, "KEDAH_SOURCE_MODE": "demo"}
        module = "tests.short_intervals" if args.sensor_interval else CODE_MODULE
        name = urlsplit(url).path.lstrip("/")
        with open(home / "deployment.log", "wb") as log:
            topology = start_topology(workspace=ROOT / "deploy" / "workspace.grpc.yaml", cwd=ROOT, env=env,
                                      port=free_port(), code_port=free_port(), output=log.fileno(),
                                      code_module=module)  # fmt: skip
        try:
            processes = [psutil.Process(p.pid) for p in topology.processes]
            time.sleep(args.warmup)  # the first ticks build what later ones reuse
            runs0 = runs(url)  # read outside the window: the reading is a session too
            cpu0, sessions0 = [process_cpu(p) for p in processes], sessions(url, name)
            time.sleep(args.seconds)
            cpu1, sessions1 = [process_cpu(p) for p in processes], sessions(url, name)
            kept = held(url, name)
            launched = runs(url) - runs0
        finally:
            topology.stop()
    return {
        "sessions_per_min": (sessions1 - sessions0) * 60.0 / args.seconds,
        "held": kept,
        "runs": launched,
        "cpu_per_min": {n: (b - a) * 60.0 / args.seconds for n, a, b in zip(NAMES, cpu0, cpu1, strict=True)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--sensor-interval", type=int, choices=(0, 5), default=0,
                        help="5: every sensor every 5 s (the daemon tests' code location); 0: shipped")  # fmt: skip
    args = parser.parse_args()
    print(f"idle deployment, {args.seconds:.0f} s after {args.warmup:.0f} s of warm-up, sensors "
          f"{'every 5 s' if args.sensor_interval else 'at their shipped intervals'}")  # fmt: skip
    results = {"project (pooled, shared)": measure(None, args), "baseline (stock dagster-postgres)": measure(STOCK_STORAGE, args)}  # fmt: skip
    print(f"{'instance':<36}{'sessions/min':>14}{'held':>6}{'runs':>6}  CPU s/min " + ", ".join(NAMES))
    for label, r in results.items():
        cpu = ", ".join(f"{r['cpu_per_min'][n]:.2f}" for n in NAMES)
        print(f"{label:<36}{r['sessions_per_min']:>14.1f}{r['held']:>6}{r['runs']:>6}  {cpu}")
    project, baseline = results.values()
    print(f"sessions_per_min: {project['sessions_per_min']:.1f}")
    print(f"baseline_sessions_per_min: {baseline['sessions_per_min']:.1f}")


if __name__ == "__main__":
    main()
