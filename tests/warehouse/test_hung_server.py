"""A PostgreSQL that accepts the connection and never answers fails within the connect timeout,
with a message naming host, port and database, in the library and in every kind of process that
talks to it (instead of hanging minutes): the kedah-analytics commands, ``dagster asset
materialize``, the daemon, the webserver and a run worker, all through Dagster's storage as
dagster.yaml gives it (sensors/instance.py). A malformed URL gets the project's message."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from kedah_analytics.warehouse.connection import (
    STATEMENT_TIMEOUT_S,
    MalformedUrl,
    WarehouseUnavailable,
    connect,
    with_timeouts,
)

ROOT = Path(__file__).resolve().parents[2]


class HungServer(int):
    """The port of a server that accepts connections and never says a word; ``accepted`` holds
    when (time.monotonic()) it accepted each connection."""

    accepted: list[float]


@pytest.fixture
def hung_server() -> Iterator[HungServer]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    port = HungServer(server.getsockname()[1])
    port.accepted = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
                port.accepted.append(time.monotonic())
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield port
    stop.set()
    thread.join()
    for s in held:
        s.close()
    server.close()


def test_a_connection_to_a_hung_server_fails_naming_it(hung_server):
    url = f"postgresql://postgres@127.0.0.1:{hung_server}/kedah?connect_timeout=2"
    with pytest.raises(WarehouseUnavailable) as caught:
        connect(url)
    assert f"127.0.0.1:{hung_server}/kedah" in str(caught.value)


def test_the_cli_gives_up_on_a_hung_server(hung_server):
    env = {
        **os.environ,
        "KEDAH_PG_URL": f"postgresql://postgres@127.0.0.1:{hung_server}/kedah?connect_timeout=2",
    }
    done = subprocess.run(
        [sys.executable, "-m", "kedah_analytics.cli", "db", "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"127.0.0.1:{hung_server}" in done.stderr and "did not accept a connection" in done.stderr


def test_urls_get_the_session_timeouts_unless_they_name_them():
    url = with_timeouts("postgresql://u@h:5432/db")
    assert url.startswith("postgresql://u@h:5432/db?connect_timeout=5&keepalives=1&")
    params = conninfo_to_dict(url)  # what libpq, psycopg and SQLAlchemy read back
    assert params["options"] == f"-c statement_timeout={STATEMENT_TIMEOUT_S * 1000}"
    assert params["keepalives_idle"] == "10"
    assert "&connect_timeout=5&" in with_timeouts("postgresql://u@h/db?sslmode=require")
    named = with_timeouts("postgresql://u@h/db?connect_timeout=3&options=-c%20statement_timeout%3D1000")
    assert conninfo_to_dict(named)["connect_timeout"] == "3"
    assert conninfo_to_dict(named)["options"] == "-c statement_timeout=1000"
    assert "connect_timeout=5" in with_timeouts("host=h dbname=db")


def test_a_malformed_url_gets_the_projects_message_not_a_traceback():
    env = {**os.environ, "KEDAH_PG_URL": "postgresql://u:s3cret@h:5432/db?connect_timeout"}
    done = subprocess.run(
        [sys.executable, "-m", "kedah_analytics.cli", "db", "migrate"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "kedah-analytics db: KEDAH_PG_URL is not a PostgreSQL URL" in done.stderr
    assert "Traceback" not in done.stderr and "s3cret" not in done.stderr
    with pytest.raises(MalformedUrl):
        connect("postgresql://u@h/db?connect_timeout")


# Every kind of Dagster process, on the project's dagster.yaml, against the hung server.

DEADLINE_S = 30


@pytest.fixture
def dagster_home(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    (tmp_path / ".dagster").mkdir()
    return tmp_path


def hung_env(port: int, home: Path) -> dict[str, str]:
    # No connect_timeout in the URL: the project's own (CONNECT_TIMEOUT_S) must apply everywhere.
    return {**os.environ, "KEDAH_PG_URL": f"postgresql://postgres@127.0.0.1:{port}/kedah",
            "DAGSTER_HOME": str(home), "KEDAH_HOME": str(home), "KEDAH_SOURCE_MODE": "demo"}  # fmt: skip


def run_worker_command(home: Path) -> list[str]:
    """``dagster api execute_run`` as a launcher starts it, for a run of ``refresh_places``."""
    from dagster._core.definitions.reconstruct import ReconstructableRepository
    from dagster._core.instance.ref import InstanceRef
    from dagster._grpc.types import ExecuteRunArgs
    from dagster._serdes import serialize_value

    repository = ReconstructableRepository.for_module("kedah_analytics.definitions", "defs")
    recon = repository.get_reconstructable_job("refresh_places")
    args = ExecuteRunArgs(job_origin=recon.get_python_origin(), run_id="0" * 36,
                          instance_ref=InstanceRef.from_dir(str(home)))  # fmt: skip
    return [str(BIN / "dagster"), "api", "execute_run", serialize_value(args)]


BIN = Path(sys.executable).parent
PROCESSES = {
    "kedah-analytics seed": lambda home: [sys.executable, "-m", "kedah_analytics.cli", "seed", "--days", "1"],
    "kedah-analytics backfill": lambda home: [sys.executable, "-m", "kedah_analytics.cli", "backfill",
                                              "--start", "2026-11-01", "--end", "2026-11-01", "--platforms", "twitter"],
    "dagster asset materialize": lambda home: [str(BIN / "dagster"), "asset", "materialize", "-m",
                                               "kedah_analytics.definitions", "--select", "places"],
    "dagster-daemon": lambda home: [str(BIN / "dagster-daemon"), "run", "-w", str(ROOT / "workspace.yaml")],
    "dagster-webserver": lambda home: [str(BIN / "dagster-webserver"), "-w", str(ROOT / "workspace.yaml"),
                                       "-h", "127.0.0.1", "-p", "0"],
}  # fmt: skip


@pytest.mark.parametrize("kind", [*PROCESSES, "run worker"])
def test_every_process_fails_on_a_hung_server_within_30_s_naming_it(hung_server, dagster_home, kind):
    """Timed from the server's first accept, when the process first asks it something: starting
    Python and importing Dagster take 5 to 25 s on a loaded 2-core machine before that."""
    command = run_worker_command(dagster_home) if kind == "run worker" else PROCESSES[kind](dagster_home)
    done = subprocess.run(command, cwd=ROOT, env=hung_env(hung_server, dagster_home), capture_output=True,
                          text=True, timeout=180)  # fmt: skip
    ended = time.monotonic()
    assert hung_server.accepted, "the process never connected"
    took = ended - hung_server.accepted[0]
    print(f"{kind}: ended {took:.1f} s after its first connection attempt")  # the README's figures
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert f"PostgreSQL at 127.0.0.1:{hung_server}/kedah did not accept a connection" in output, output[
        -3000:
    ]
    assert took < DEADLINE_S, f"{kind} took {took:.1f} s"


def test_dagster_asset_materialize_stops_on_sigterm_while_the_server_hangs(hung_server, dagster_home):
    """Even with a connect timeout of its own far longer than the test, SIGTERM ends the command."""
    env = hung_env(hung_server, dagster_home)
    env["KEDAH_PG_URL"] += "?connect_timeout=300"
    command = subprocess.Popen(PROCESSES["dagster asset materialize"](dagster_home), cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not hung_server.accepted:
            assert command.poll() is None and time.monotonic() < deadline, "it never connected"
            time.sleep(0.2)
        command.send_signal(signal.SIGTERM)
        command.wait(timeout=15)
    finally:
        if command.poll() is None:
            command.kill()
    assert command.returncode != 0
