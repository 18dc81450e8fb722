"""What the distributed path costs on one machine: the same 90-day x 4-platform ranged backfill
(places, raw and classified posts, daily metrics and term counts) in-process, on Dagster's local
multiprocess executor, and on the Celery executor with 1 and 2 dagster-celery workers on RabbitMQ,
each on a fresh database and a Postgres-backed Dagster instance.

Each variant is `kedah-analytics backfill` with only KEDAH_EXECUTOR changed; the seconds are the
runs' wall time measured inside that command (interpreter start and worker start-up excluded).

Run: .venv/bin/python bench/bench_scale.py [--days 90]   (needs RabbitMQ on 127.0.0.1:5672)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import scratch_database  # noqa: E402

from kedah_analytics.config.paths import resolve_pg_url  # noqa: E402
from kedah_analytics.executors import executor_options  # noqa: E402
from kedah_analytics.topology import start_worker, stop  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BROKER = os.environ.get("KEDAH_CELERY_BROKER", "pyamqp://guest:guest@127.0.0.1:5672//")
PLATFORMS = "twitter,instagram,facebook,youtube"


def variant(executor: str, workers: int, first: date, last: date, server: str) -> dict:
    with scratch_database(server=server) as url, tempfile.TemporaryDirectory(prefix="kedah_scale_") as tmp:
        home = Path(tmp)
        (home / ".dagster").mkdir()
        shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
        env = {**os.environ, "KEDAH_PG_URL": url, "KEDAH_HOME": str(home), "KEDAH_EXECUTOR": executor,
               "KEDAH_CELERY_BROKER": BROKER, "KEDAH_CELERY_QUEUE": f"kedah_bench_{uuid.uuid4().hex[:8]}"}  # fmt: skip
        started = []
        try:
            for index in range(workers):
                log = open(home / f"worker{index}.log", "wb")  # noqa: SIM115  # closed with the directory
                started.append(start_worker(executor_options(env), dagster_home=home / ".dagster", cwd=ROOT,
                                            env=env, name=f"bench{index}", output=log.fileno()))  # fmt: skip
            deadline = time.monotonic() + 180
            while any(
                " ready." not in (home / f"worker{i}.log").read_text(errors="replace") for i in range(workers)
            ):
                if time.monotonic() > deadline:
                    raise SystemExit(
                        "the Celery workers did not start; is RabbitMQ running on 127.0.0.1:5672?"
                    )
                time.sleep(0.5)
            out = subprocess.run(
                [sys.executable, "-m", "kedah_analytics.cli", "backfill", "--start", str(first), "--end", str(last),
                 "--platforms", PLATFORMS, "--json"],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600,
            )  # fmt: skip
            if out.returncode != 0:
                raise SystemExit(f"{executor} backfill failed:\n{out.stderr[-3000:]}")
            summary = json.loads(out.stdout.strip().splitlines()[-1])
        finally:
            stop(started)
        with psycopg.connect(url) as conn:
            summary["posts"] = conn.execute("SELECT count(*) FROM kedah.classified_posts").fetchone()[0]
        return summary


def main() -> None:
    # A plain `kill` still stops the workers and drops the scratch databases (the finally blocks).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=90)
    args = parser.parse_args()
    first = date(2026, 6, 1)
    last = first + timedelta(days=args.days - 1)
    server = resolve_pg_url()
    rows = [
        ("in-process", variant("in_process", 0, first, last, server)),
        ("multiprocess (local)", variant("multiprocess", 0, first, last, server)),
        ("celery, 1 worker", variant("celery", 1, first, last, server)),
        ("celery, 2 workers", variant("celery", 2, first, last, server)),
    ]
    posts = {r["posts"] for _, r in rows}
    assert len(posts) == 1, f"every executor must write the same posts: {posts}"
    print(f"days: {args.days}   platforms: 4   classified posts written: {posts.pop()}")
    print(f"{'executor':<22}{'seconds':>9}{'runs':>6}{'steps':>7}")
    for name, r in rows:
        print(f"{name:<22}{r['seconds']:>9.1f}{r['runs']:>6}{r['steps']:>7}")
    base = rows[0][1]["seconds"]
    print("relative to in-process: " + "   ".join(f"{n}: {r['seconds'] / base:.2f}x" for n, r in rows[1:]))


if __name__ == "__main__":
    main()
