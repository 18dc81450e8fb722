"""A run whose worker dies is noticed: failed, alerted with the step it was in, its ``source_api``
pool slot freed; and a re-run of the same partition completes. The same holds for runs executed in
a command-line process (``kedah-analytics seed``, ``kedah-analytics backfill``, ``dagster asset
materialize``) killed with SIGKILL mid-write, and none of their processes is left running.

The live tests run the deployment's own processes: ``dagster code-server``, ``dagster-webserver``
and ``dagster-daemon`` started by :func:`kedah_analytics.topology.start_topology` on the project's
dagster.yaml (run monitoring with ``sensors.run_worker.LocalRunLauncher``, the queued run
coordinator, pools), only the intervals of run monitoring and the sensors shortened
(tests/short_intervals.py), on a database of their own. Runs
are launched through GraphQL, dequeued by the daemon and executed by real worker processes.

A worker is held inside ``raw_posts`` the way a real one can be: an operator's ``LOCK TABLE
kedah.raw_posts IN SHARE MODE`` (what a plain ``CREATE INDEX`` takes) makes its write wait, with
the step started and the pool's only slot claimed. Alerts go over HTTP to a server in this test,
through ``KEDAH_ALERT_WEBHOOK``.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import psutil
import psycopg
import pytest
import yaml
from dagster._core.storage.dagster_run import IN_PROGRESS_RUN_STATUSES, DagsterRunStatus
from dagster._core.test_utils import create_run_for_test
from dagster_ui import LAUNCH, LOCATION, free_port, graphql, stop_instigators
from databases import database_on_a_server_of_its_own, new_database

from assets.common.runs import range_tags
from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.topology import Topology, start_topology
from sensors.instance import WORKER_HOST_TAG, WORKER_PID_TAG, this_host
from sensors.run_failures import run_failure_cause
from sensors.run_worker import LocalRunLauncher, process_alive, step_process_pids, worker_pid

ROOT = Path(__file__).resolve().parents[2]
# The code location the deployment serves: the project's, its sensors evaluated every 5 s.
SHORT_INTERVALS = "tests.short_intervals"
ALERT_SENSOR = "report_failed_runs"
POOL = "source_api"
RELOAD = """mutation { reloadRepositoryLocation(repositoryLocationName: "kedah_analytics") { __typename
  ... on WorkspaceLocationEntry { locationOrLoadError { __typename } } ... on PythonError { message } } }"""
REEXECUTE = """mutation($p: ReexecutionParams!) { launchRunReexecution(reexecutionParams: $p) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""


def _project_instance_overrides() -> dict:
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    return {k: config[k] for k in ("run_launcher", "run_monitoring", "concurrency")}


def test_the_project_instance_uses_the_launcher_that_checks_workers():
    with dg.instance_for_test(overrides=_project_instance_overrides()) as instance:
        assert isinstance(instance.run_launcher, LocalRunLauncher)
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0


def test_a_run_failed_from_outside_is_alerted_with_the_cause_dagster_logged_before_it():
    with dg.DagsterInstance.ephemeral() as instance:
        run = create_run_for_test(instance, job_name="collect_posts", status=DagsterRunStatus.STARTED)
        instance.report_engine_event("Started process for run (pid: 1).", run)
        crash = f"Run execution process for {run.run_id} was terminated by signal 9 (SIGKILL)."
        instance.report_engine_event(crash, run)
        failure = instance.report_run_failed(run)  # Dagster's generic message, as the code server sends
        instance.report_engine_event("Freed 1 concurrency slot.", run)  # afterwards: not the cause
        assert run_failure_cause(instance, run.run_id, failure) == crash
        own = dg.DagsterEvent(
            event_type_value=dg.DagsterEventType.RUN_FAILURE.value, job_name="collect_posts",
            message="Detected run worker status FAILED: the run worker process (pid 7) died",
        )  # fmt: skip
        assert "(pid 7) died" in run_failure_cause(instance, run.run_id, own)


# The live deployment.


def launch(url: str, job: str, tags: dict[str, str]) -> str:
    """Launch a run of ``job`` through GraphQL (queued; the daemon dequeues it); its id."""
    params = {"selector": {**LOCATION, "jobName": job}, "runConfigData": {},
              "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]}}  # fmt: skip
    launched = graphql(url, LAUNCH, {"p": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    return launched["run"]["runId"]


class Webhook:
    """A chat webhook on 127.0.0.1 that records the JSON bodies posted to it."""

    def __init__(self) -> None:
        posts: list[dict] = []
        self.posts = posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the http.server API)
                posts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def texts(self) -> list[str]:
        return [str(p.get("text", "")) for p in list(self.posts)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def own_database(pg_server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database for these tests alone (Dagster's storage and the warehouse), migrated; dropped
    after. Without KEDAH_PG_URL it lives on an embedded server of its own, not on the one the other
    xdist workers share: twice in one day's fresh-clone runs the shared server went down as this
    module ended (its DROP DATABASE lost its connection, every later test was refused), after
    these tests had killed workers and step processes mid-write."""
    if os.environ.get("KEDAH_PG_URL"):
        with new_database(pg_server_url, "kedah_dead") as url:
            yield url
        return
    with database_on_a_server_of_its_own(tmp_path_factory.mktemp("dead_pg"), "kedah_dead") as url:
        yield url


@dataclass
class Deployment:
    topology: Topology
    instance: dg.DagsterInstance
    webhook: Webhook
    url: str  # the webserver
    database: str
    home: Path  # DAGSTER_HOME (and KEDAH_HOME of the commands): the project's dagster.yaml, shortened


@pytest.fixture(scope="module")
def deployment(own_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Code server, webserver and daemon on free ports, with only the failure sensor running
    (every 5 s rather than 30), places loaded and one ``source_api`` slot; every process is
    stopped afterwards."""
    tmp = tmp_path_factory.mktemp("dead_workers")
    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    # The project's instance; only run monitoring's waits are shortened (what it checks is the same).
    config["run_monitoring"].update(poll_interval_seconds=1, free_slots_after_run_end_seconds=1)
    home = tmp / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text(yaml.safe_dump(config))
    # The kedah-analytics commands copy $KEDAH_HOME/dagster.yaml into $KEDAH_HOME/.dagster.
    (home / ".dagster").mkdir()
    webhook = Webhook()
    env = {**os.environ, "DAGSTER_HOME": str(home), "KEDAH_PG_URL": own_database,
           "KEDAH_SOURCE_MODE": "demo", "KEDAH_ALERT_WEBHOOK": webhook.url}  # fmt: skip
    log = tmp / "deployment.log"
    with open(log, "wb") as out:
        topology = start_topology(
            workspace=ROOT / "deploy" / "workspace.grpc.yaml", cwd=ROOT, env=env, port=free_port(),
            code_port=free_port(), output=out.fileno(), code_module=SHORT_INTERVALS,
        )  # fmt: skip
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("KEDAH_PG_URL", own_database)  # the storage dagster.yaml names
            instance = dg.DagsterInstance.from_config(str(home))
        with instance:
            yield _prepare(
                Deployment(topology, instance, webhook, topology.webserver_url, own_database, home)
            )
    finally:
        topology.stop()
        webhook.close()
        print(log.read_text(errors="replace")[-5000:])  # shown by pytest when a test failed


def _prepare(d: Deployment) -> Deployment:
    # Only the failure sensor runs: no hourly collection or automation competes for the pool.
    sensors = stop_instigators(d.url, keep=frozenset({ALERT_SENSOR}))
    # The failure sensor is on by default: nobody has to remember to start it.
    assert sensors[ALERT_SENSOR]["sensorState"]["status"] == "RUNNING"
    # A schedule that fired before it was stopped (at the turn of an hour) has its runs end first.
    wait_for(lambda: not d.instance.get_runs(dg.RunsFilter(statuses=IN_PROGRESS_RUN_STATUSES)), 300,
             "runs launched before the schedules were stopped to end", d.topology)  # fmt: skip
    # The places the classifier links posts to, as any deployment has them.
    places_run = launch(d.url, "refresh_places", {})
    wait_for(lambda: status(d.instance, places_run) == dg.DagsterRunStatus.SUCCESS, 240,
             "refresh_places to succeed", d.topology)  # fmt: skip
    # A failure sensor reports the failures after its first tick: the kills come after it.
    wait_for(lambda: sensor_ticks(d.instance, ALERT_SENSOR) >= 1, 180, "the failure sensor's first tick",
             d.topology)  # fmt: skip
    # One slot: a slot the dead run kept would block every later run of the pool.
    d.instance.event_log_storage.set_concurrency_slots(POOL, 1)
    return d


def wait_for(predicate: Callable[[], object], timeout: float, what: str, topology: Topology) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in topology.processes):
            pytest.fail(f"a process of the deployment exited while waiting for {what}")
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def sensor_ticks(instance: dg.DagsterInstance, name: str) -> int:
    for state in instance.all_instigator_state():
        if state.instigator_name == name:
            return len(instance.get_ticks(state.instigator_origin_id, state.selector_id))
    return 0


def step_started(instance: dg.DagsterInstance, run_id: str, step: str) -> bool:
    return any(
        r.dagster_event is not None and r.dagster_event.step_key == step
        for r in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_START)
    )


def slot_holders(instance: dg.DagsterInstance) -> list[tuple[str, str]]:
    """(run id, step) of every claimed slot of the pool."""
    info = instance.event_log_storage.get_concurrency_info(POOL)
    return [(s.run_id, s.step_key) for s in info.claimed_slots]


def writers_waiting(conn: psycopg.Connection) -> int:
    """Sessions waiting for a lock on kedah.raw_posts."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE relation = 'kedah.raw_posts'::regclass AND NOT granted"
    ).fetchone()
    return int(row[0]) if row else 0


def status(instance: dg.DagsterInstance, run_id: str) -> dg.DagsterRunStatus | None:
    run = instance.get_run_by_id(run_id)
    return run.status if run else None


@pytest.mark.parametrize(
    ("code_server_crashed", "days_ago"),
    [
        pytest.param(False, 2, id="the-code-server-that-started-it-notices"),
        pytest.param(True, 3, id="after-a-code-server-crash-run-monitoring-notices"),
    ],
)
def test_a_worker_killed_with_sigkill_is_failed_alerted_and_frees_its_slot_and_a_rerun_completes(
    deployment: Deployment, code_server_crashed: bool, days_ago: int
):
    """Two ways a worker's death is noticed. The code server that started the worker watches its
    child and fails the run at once. When that code server is gone (it crashed and the location
    was reloaded; the worker lived on), only run monitoring can tell: the daemon asks
    LocalRunLauncher, which checks the worker's pid."""
    d, instance = deployment, deployment.instance
    day: date = datetime.now(KEDAH_TZ).date() - timedelta(days=days_ago)
    partition = f"{day}|twitter"
    with psycopg.connect(d.database) as operator:
        # Writes to raw_posts wait while the operator holds this lock (its transaction stays open).
        operator.execute("LOCK TABLE kedah.raw_posts IN SHARE MODE")
        run_id = launch(d.url, "collect_posts", range_tags(partition, partition))

        def held_in_raw_posts() -> bool:
            with psycopg.connect(d.database) as watcher:
                waiting = writers_waiting(watcher)
            return (
                status(instance, run_id) == dg.DagsterRunStatus.STARTED
                and step_started(instance, run_id, "raw_posts")
                and (run_id, "raw_posts") in slot_holders(instance)
                and waiting > 0
            )

        wait_for(
            held_in_raw_posts, 240, "the worker to wait inside raw_posts with the pool's slot", d.topology
        )
        pid = worker_pid(instance, run_id)
        assert pid is not None and process_alive(pid)
        code_server = psutil.Process(d.topology.processes[0].pid)
        assert pid in {p.pid for p in code_server.children(recursive=True)}, "not a worker of this deployment"
        if code_server_crashed:
            # The code server process that launched the worker dies; the worker lives on, still
            # waiting in raw_posts. The location is reloaded (as from the UI): a new code server
            # process serves it (and evaluates the failure sensor), and knows nothing of the worker.
            parent = psutil.Process(pid).parent()
            assert parent is not None and parent.pid != code_server.pid
            parent.kill()
            parent.wait(timeout=30)
            # The first reload starts the new process, then reports that the old one could not be
            # asked to shut down (it is dead); the next reload finds the new one and loads.
            for _ in range(3):
                reloaded = graphql(d.url, RELOAD)["reloadRepositoryLocation"]
                if (reloaded.get("locationOrLoadError") or {}).get("__typename") == "RepositoryLocation":
                    break
            else:
                pytest.fail(f"the code location did not reload: {reloaded}")
            assert process_alive(pid) and psutil.Process(pid).ppid() != parent.pid
        # Run monitoring polls every second here: a live, waiting worker is left alone.
        time.sleep(5)
        assert status(instance, run_id) == dg.DagsterRunStatus.STARTED

        os.kill(pid, signal.SIGKILL)

        wait_for(lambda: status(instance, run_id) == dg.DagsterRunStatus.FAILURE, 120,
                 "the run to be failed", d.topology)  # fmt: skip
        (failure,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
        if code_server_crashed:
            cause = f"the run worker process (pid {pid}) died"
            assert cause in failure.message  # the daemon's run monitoring, through LocalRunLauncher
        else:
            cause = "was terminated by signal 9 (SIGKILL)"
            engine = instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
            assert any(cause in r.message for r in engine)  # the code server saw its child die

        def alert() -> str | None:
            return next((t for t in d.webhook.texts() if run_id in t), None)

        wait_for(alert, 180, "the failure alert on the webhook", d.topology)
        text = alert() or ""
        assert "job collect_posts failed" in text
        assert "it was in: raw_posts" in text
        assert cause in text

        wait_for(lambda: not slot_holders(instance), 120, "the pool slot to be freed", d.topology)
        assert instance.event_log_storage.get_concurrency_info(POOL).slot_count == 1

        operator.rollback()  # the index is built: writes go through again
        rerun = graphql(d.url, REEXECUTE, {"p": {"parentRunId": run_id, "strategy": "FROM_FAILURE"}})
        assert rerun["launchRunReexecution"]["__typename"] == "LaunchRunSuccess", rerun
        rerun_id = rerun["launchRunReexecution"]["run"]["runId"]
        wait_for(
            lambda: status(instance, rerun_id) in (dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE),
            240, "the re-run to end", d.topology,
        )  # fmt: skip
        assert status(instance, rerun_id) == dg.DagsterRunStatus.SUCCESS
        assert step_started(instance, rerun_id, "raw_posts")
        assert not slot_holders(instance)
        # One alert for the killed run, none for its re-run.
        assert len([t for t in d.webhook.texts() if run_id in t]) == 1
        assert not [t for t in d.webhook.texts() if rerun_id in t]
        rows = operator.execute(
            "SELECT count(*) FROM kedah.raw_posts WHERE platform = 'twitter' AND date = %s", (day,)
        ).fetchone()
        assert rows and rows[0] > 0


# Runs executed in a command-line process: no code server watches them, only run monitoring.

BIN = Path(sys.executable).parent


def cli_command(path: str, day: date) -> list[str]:
    if path == "seed":  # every platform of the last two days: places first, then twitter's posts
        return [sys.executable, "-m", "kedah_analytics.cli", "seed", "--days", "2"]
    if path == "backfill":
        return [sys.executable, "-m", "kedah_analytics.cli", "backfill", "--start", str(day), "--end", str(day),
                "--platforms", "twitter"]  # fmt: skip
    return [str(BIN / "dagster"), "asset", "materialize", "-m", "kedah_analytics.definitions",
            "--select", "raw_posts", "--partition", f"{day}|twitter"]  # fmt: skip


def held_run(d: Deployment, before: set[str]) -> str | None:
    """A run started since ``before`` that waits inside raw_posts holding the pool's slot."""
    for run in d.instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        if run.run_id not in before and (run.run_id, "raw_posts") in slot_holders(d.instance):
            with psycopg.connect(d.database) as watcher:
                if writers_waiting(watcher) > 0:
                    return run.run_id
    return None


@pytest.mark.parametrize(
    ("path", "executor", "days_ago"),
    [
        pytest.param("seed", "in_process", 0, id="kedah-analytics-seed"),
        pytest.param("backfill", "in_process", 4, id="kedah-analytics-backfill"),
        pytest.param("materialize", "in_process", 5, id="dagster-asset-materialize"),
        pytest.param("materialize", "multiprocess", 6, id="dagster-asset-materialize-step-processes"),
    ],
)
def test_a_command_line_run_killed_with_sigkill_is_failed_alerted_frees_its_slot_and_leaves_no_process(
    deployment: Deployment, path: str, executor: str, days_ago: int
):
    """The command's own process is the run's worker (with the multiprocess executor, the parent
    of the step processes). It is killed mid-write; run monitoring must find the run by the worker
    tags every run gets as it starts, fail it, end any step process it left, and free its slot."""
    d, instance = deployment, deployment.instance
    day: date = datetime.now(KEDAH_TZ).date() - timedelta(days=days_ago)
    env = {**os.environ, "DAGSTER_HOME": str(d.home), "KEDAH_HOME": str(d.home), "KEDAH_PG_URL": d.database,
           "KEDAH_SOURCE_MODE": "demo", "KEDAH_EXECUTOR": executor}  # fmt: skip
    env.pop("KEDAH_ALERT_WEBHOOK", None)  # the alert comes from the deployment's sensor, not the command
    before = {r.run_id for r in instance.get_runs()}
    log = d.home / f"{path}-{executor}.log"
    with psycopg.connect(d.database) as operator, open(log, "wb") as out:
        operator.execute("LOCK TABLE kedah.raw_posts IN SHARE MODE")
        command = subprocess.Popen(cli_command(path, day), cwd=ROOT, env=env, stdout=out, stderr=out,
                                   start_new_session=True)  # fmt: skip
        processes: list[psutil.Process] = []
        try:
            deadline = time.monotonic() + 300
            run_id = None
            while run_id is None:
                assert command.poll() is None, log.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, (
                    f"the command's run never waited inside raw_posts: {log.read_text(errors='replace')[-3000:]}"
                )
                time.sleep(0.5)
                run_id = held_run(d, before)
            run = instance.get_run_by_id(run_id)
            assert run is not None
            # Whoever launched it, the run names its worker: the command's own process.
            assert run.tags[WORKER_HOST_TAG] == this_host() and run.tags[WORKER_PID_TAG] == str(command.pid)
            processes = psutil.Process(command.pid).children(recursive=True)
            if executor == "multiprocess":
                steps = step_process_pids(instance, run_id)
                assert steps and set(steps) <= {p.pid for p in processes}, "raw_posts runs in a step process"
            time.sleep(3)  # run monitoring polls every second: a live worker is left alone
            assert status(instance, run_id) == dg.DagsterRunStatus.STARTED

            os.kill(command.pid, signal.SIGKILL)
            command.wait(timeout=30)

            wait_for(lambda: status(instance, run_id) == dg.DagsterRunStatus.FAILURE, 120,
                     "the run to be failed", d.topology)  # fmt: skip
            cause = f"the run worker process (pid {command.pid}) died"
            (failure,) = instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE)
            assert cause in failure.message

            def alert() -> str | None:
                return next((t for t in d.webhook.texts() if run_id in t), None)

            wait_for(alert, 180, "the failure alert on the webhook", d.topology)
            assert "it was in: raw_posts" in (alert() or "") and cause in (alert() or "")
            wait_for(lambda: not slot_holders(instance), 120, "the pool slot to be freed", d.topology)
            # Nothing the command started lives on (the step process waiting for the lock included).
            wait_for(lambda: not [p for p in processes if p.is_running() and p.status() != psutil.STATUS_ZOMBIE],
                     60, "the command's processes to end", d.topology)  # fmt: skip
        finally:
            for process in [*processes, psutil.Process(command.pid) if command.poll() is None else None]:
                if process is not None and process.is_running():
                    process.kill()
            operator.rollback()
    assert len([t for t in d.webhook.texts() if run_id in t]) == 1


def test_a_run_marked_failed_by_hand_has_its_slot_freed_by_the_daemons_own_mechanism(own_database, tmp_path):
    """What an operator does in the UI for a stuck run ("Mark as failed") ends it; Dagster's
    concurrency-slot iteration (free_slots_after_run_end_seconds in dagster.yaml) then frees its slot,
    the same mechanism that frees the slots of runs failed by run monitoring."""
    from types import SimpleNamespace

    from dagster._daemon.monitoring.concurrency import execute_concurrency_slots_iteration

    config = yaml.safe_load((ROOT / "dagster.yaml").read_text())
    config["run_monitoring"]["free_slots_after_run_end_seconds"] = 1
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KEDAH_PG_URL", own_database)
        instance = dg.DagsterInstance.from_config(str(tmp_path))
    with instance:
        instance.event_log_storage.set_concurrency_slots("manual_pool", 1)
        run = create_run_for_test(instance, job_name="collect_posts", status=DagsterRunStatus.STARTED)
        claim = instance.event_log_storage.claim_concurrency_slot("manual_pool", run.run_id, "raw_posts")
        assert claim.is_claimed
        instance.report_run_failed(run, "marked as failed by hand")
        context = SimpleNamespace(instance=instance)
        deadline = time.monotonic() + 60
        while instance.event_log_storage.get_concurrency_info("manual_pool").claimed_slots:
            assert time.monotonic() < deadline, "the slot of the run marked failed was never freed"
            time.sleep(0.5)
            list(execute_concurrency_slots_iteration(context, logging.getLogger("test")))  # type: ignore[arg-type]
        assert instance.event_log_storage.get_concurrency_info("manual_pool").slot_count == 1


def test_the_launcher_judges_a_run_by_the_worker_its_tags_name_on_this_host_only():
    from dagster._core.launcher.base import WorkerStatus

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    with dg.instance_for_test(overrides=_project_instance_overrides()) as instance:
        launcher = instance.run_launcher

        def health(host: str, pid: int) -> WorkerStatus:
            run = create_run_for_test(instance, job_name="collect_posts", status=DagsterRunStatus.STARTED,
                                      tags={WORKER_HOST_TAG: host, WORKER_PID_TAG: str(pid)})  # fmt: skip
            return launcher.check_run_worker_health(run).status

        assert health(this_host(), os.getpid()) == WorkerStatus.RUNNING
        assert health(this_host(), dead.pid) == WorkerStatus.FAILED
        assert health("another-machine", dead.pid) == WorkerStatus.RUNNING  # never judged from here
        untagged = create_run_for_test(instance, job_name="collect_posts", status=DagsterRunStatus.STARTED)
        assert launcher.check_run_worker_health(untagged).status == WorkerStatus.RUNNING  # not started yet
