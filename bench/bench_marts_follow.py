"""Time from a backfill's end to its marts being current, with the real daemon and webserver.

On a fresh database: a few demo days collected and aggregated and their marts built (in-process,
as seeding leaves them); then the daemon and the webserver start, and a ranged backfill of the
marts' daily parents (place_daily_metrics, term_hourly_counts) is launched through GraphQL as the
UI's Materialize dialog does. The clock runs from the backfill's last parent materialization to
the moment no derived partition is older than a parent partition it reads (the rule of
assets/common/staleness.py, the marts' 28-day windows included): the last automated mart write
that made them current. Prints ``name: value`` lines.

Run: .venv/bin/python bench/bench_marts_follow.py [--days 3] [--root CHECKOUT]
``--root`` runs another checkout's code (e.g. ``git worktree add /tmp/before <commit>``) in the
daemon, the webserver and the in-process runs; the staleness rule is always this checkout's file.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
PARENTS = ("place_daily_metrics", "term_hourly_counts")
AUTOMATION = ("metrics_automation", "marts_automation")
LAUNCH = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status } ... on PythonError { message } } }"""
SENSORS = """query($s: RepositorySelector!) { sensorsOrError(repositorySelector: $s) {
  ... on Sensors { results { id name } } } schedulesOrError(repositorySelector: $s) {
  ... on Schedules { results { id name } } } }"""
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}  # events stay in the runs' logs
LOCATION = {"repositoryLocationName": "kedah_analytics", "repositoryName": "__repository__"}


def graphql(url: str, query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body["data"]


def staleness_rule():  # type: ignore[no-untyped-def]
    """This checkout's stale_partitions, whatever code --root runs (it needs only dagster)."""
    spec = importlib.util.spec_from_file_location("kedah_staleness", HERE / "assets/common/staleness.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module.stale_partitions


def start(command: list[str], home: Path, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        command,
        cwd=home,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def wait(predicate, timeout: float, what: str) -> float:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return time.time()
        time.sleep(1)
    raise TimeoutError(f"no {what} within {timeout:.0f} s")


def measure(root: Path, url: str, days: int, timeout: float) -> dict[str, object]:
    import dagster as dg

    from assets.common.runs import range_tags
    from kedah_analytics.definitions import defs
    from kedah_analytics.domain import KEDAH_TZ

    stale_partitions = staleness_rule()
    graph = defs.resolve_asset_graph()
    today = datetime.now(KEDAH_TZ).date()
    first, last = today - timedelta(days=days + 1), today - timedelta(days=2)
    home = Path(tempfile.mkdtemp(prefix="kedah_follow_"))
    shutil.copy(root / "dagster.yaml", home / "dagster.yaml")
    env = {**os.environ, "DAGSTER_HOME": str(home), "KEDAH_PG_URL": url, "KEDAH_SOURCE_MODE": "demo",
           "PYTHONPATH": str(root)}  # fmt: skip
    os.environ.update({k: env[k] for k in ("DAGSTER_HOME", "KEDAH_PG_URL", "KEDAH_SOURCE_MODE")})
    processes: list[subprocess.Popen] = []
    try:
        with dg.DagsterInstance.get() as instance:
            for job, tags in (
                ("refresh_places", {}),
                ("collect_posts", range_tags(f"{first}|twitter", f"{last}|twitter")),
                ("daily_metrics", range_tags(str(first), str(last))),
                ("build_marts", range_tags(str(first), str(last))),
            ):
                result = defs.resolve_job_def(job).execute_in_process(
                    instance=instance, tags=tags, run_config=QUIET
                )
                assert result.success, job
            assert stale_partitions(instance, graph) == []
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        bin_dir = Path(sys.executable).parent
        workspace = str(root / "workspace.yaml")
        processes.append(start([str(bin_dir / "dagster-daemon"), "run", "-w", workspace], home, env))
        processes.append(start([str(bin_dir / "dagster-webserver"), "-w", workspace, "-h", "127.0.0.1", "-p",
                                str(port)], home, env))  # fmt: skip
        web = f"http://127.0.0.1:{port}"

        def answers() -> bool:
            try:
                urllib.request.urlopen(f"{web}/server_info", timeout=2)
                return True
            except OSError:
                return False

        wait(answers, 180, "webserver")
        listed = graphql(web, SENSORS, {"s": LOCATION})
        for schedule in listed["schedulesOrError"]["results"]:
            graphql(
                web,
                "mutation($id: String!) { stopRunningSchedule(id: $id) { __typename } }",
                {"id": schedule["id"]},
            )
        for sensor in listed["sensorsOrError"]["results"]:
            if sensor["name"] not in AUTOMATION:
                graphql(
                    web, "mutation($id: String!) { stopSensor(id: $id) { __typename } }", {"id": sensor["id"]}
                )
        with dg.DagsterInstance.get() as instance:

            def ticks(sensor: str) -> int:
                for state in instance.all_instigator_state():
                    if state.instigator_name == sensor:
                        return len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
                return 0

            wait(lambda: all(ticks(s) for s in AUTOMATION), 300, "first automation ticks")
            names = [str(first + timedelta(days=n)) for n in range((last - first).days + 1)]
            launched = time.time()
            answer = graphql(web, LAUNCH, {"p": {"assetSelection": [{"path": [a]} for a in PARENTS],
                                                 "partitionNames": names, "fromFailure": False}})  # fmt: skip
            backfill = answer["launchPartitionBackfill"]["backfillId"]

            def backfill_done() -> bool:
                status = graphql(web, BACKFILL, {"id": backfill})["partitionBackfillOrError"]["status"]
                return status not in ("REQUESTED", "CANCELING", "FAILING")

            wait(backfill_done, timeout, "end of the backfill")
            parent_end = max(
                instance.get_latest_materialization_event(dg.AssetKey(a)).timestamp  # type: ignore[union-attr]
                for a in PARENTS
            )
            stale_at_end = len(stale_partitions(instance, graph))
            marts = [k for k in graph.get_all_asset_keys() if graph.get(k).group_name == "marts"]
            try:
                wait(lambda: not stale_partitions(instance, graph), timeout, "current marts")
                current = max(
                    instance.get_latest_materialization_event(k).timestamp  # type: ignore[union-attr]
                    for k in marts
                )
                follow: object = round(current - parent_end, 1)
            except TimeoutError:
                follow = f"not current after {timeout:.0f} s ({len(stale_partitions(instance, graph))} stale)"
            runs = [
                r.dagster_run
                for r in instance.get_run_records()
                if r.create_timestamp.timestamp() >= launched
            ]
            # The timeline: which run wrote what, when (seconds from the launch), and who asked for it.
            for record in sorted(
                (r for r in instance.get_run_records() if r.create_timestamp.timestamp() >= launched),
                key=lambda r: r.create_timestamp,
            ):
                run = record.dagster_run
                print(
                    f"  run +{record.create_timestamp.timestamp() - launched:6.1f}s"
                    f" start +{(record.start_time or launched) - launched:6.1f}s"
                    f" end +{(record.end_time or launched) - launched:6.1f}s"
                    f" {run.status.value:<8} {','.join(sorted(k.to_user_string() for k in run.asset_selection or ()))}"
                    f" [{run.tags.get('dagster/asset_partition_range_start', run.tags.get('dagster/partition', ''))}"
                    f"..{run.tags.get('dagster/asset_partition_range_end', '')}]"
                    f" by {run.tags.get('dagster/sensor_name') or run.tags.get('dagster/backfill', '?')[:8]}",
                    flush=True,
                )
            durations = {}
            for state in instance.all_instigator_state():
                if state.instigator_name in AUTOMATION:
                    spans = [t.end_timestamp - t.timestamp for t in
                             instance.get_ticks(state.instigator_origin_id, state.selector_id) if t.end_timestamp]  # fmt: skip
                    durations[state.instigator_name] = round(sum(spans) / max(len(spans), 1), 2)
            return {
                **{f"{name}_tick_mean_s": value for name, value in sorted(durations.items())},
                "days_backfilled": len(names),
                "backfill_wall_s": round(parent_end - launched, 1),
                "stale_partitions_at_backfill_end": stale_at_end,
                "backfill_end_to_marts_current_s": follow,
                "mart_runs_after_backfill": sum(1 for r in runs if set(marts) & set(r.asset_selection or ())),
                "runs_after_launch": len(runs),
            }
    finally:
        for process in processes:
            stop(process)
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--days", type=int, default=3, help="days in the backfill (default 3)")
    parser.add_argument("--root", type=Path, default=HERE, help="the checkout whose code runs")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for each stage")
    args = parser.parse_args()
    root = args.root.resolve()
    if os.environ.get("PYTHONPATH") != str(root):  # the other checkout's code, imported first
        env = {**os.environ, "PYTHONPATH": str(root)}
        return subprocess.call([sys.executable, __file__, *sys.argv[1:]], env=env, cwd=root)
    sys.path.insert(0, str(HERE / "bench"))
    from _db import scratch_database

    print(
        f"code: {root} ({subprocess.check_output(['git', 'rev-parse', '--short', 'HEAD'], cwd=root, text=True).strip()})"
    )
    with scratch_database("kedah_follow") as url:
        for name, value in measure(root, url, args.days, args.timeout).items():
            print(f"{name}: {value}", flush=True)
    print(f"load: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
