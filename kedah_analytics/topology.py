"""The deployment topology on one machine: code-location gRPC server, webserver and daemon as
three processes sharing one PostgreSQL instance, and dagster-celery workers.

This is the shape of a real deployment (the Helm chart runs the same three as pods): the
webserver and the daemon never import the project's code, they ask the code server over gRPC,
so a new version of the code is rolled out by restarting the code server alone. Everything here
starts Dagster's own commands; nothing schedules or queues work itself.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kedah_analytics.config.settings import CODE_SERVER_HOST, CODE_SERVER_PORT
from kedah_analytics.executors import ExecutorOptions, worker_command, worker_config_yaml

LOCATION_NAME = "kedah_analytics"
CODE_MODULE = "kedah_analytics.definitions"
# Read by deploy/workspace.grpc.yaml, so one file serves any host and port.
CODE_SERVER_HOST_ENV = CODE_SERVER_HOST.name
CODE_SERVER_PORT_ENV = CODE_SERVER_PORT.name


def _bin(name: str) -> str:
    """A console script of this interpreter's environment (the venv), else the PATH's."""
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def code_server_command(host: str, port: int, module: str = CODE_MODULE) -> list[str]:
    return [_bin("dagster"), "code-server", "start", "-m", module, "--location-name", LOCATION_NAME,
            "-h", host, "-p", str(port)]  # fmt: skip


def webserver_command(workspace: Path, host: str, port: int) -> list[str]:
    return [_bin("dagster-webserver"), "-w", str(workspace), "-h", host, "-p", str(port)]


def daemon_command(workspace: Path) -> list[str]:
    return [_bin("dagster-daemon"), "run", "-w", str(workspace)]


def wait_for_port(host: str, port: int, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"the process for {host}:{port} exited with {process.returncode} before listening"
            )
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"nothing listened on {host}:{port} within {timeout_s:.0f}s")


def wait_for_webserver(url: str, process: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the webserver exited with {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/server_info", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"the webserver did not answer {url}/server_info within {timeout_s:.0f}s")


def stop(processes: Sequence[subprocess.Popen], timeout_s: float = 30.0) -> None:
    """SIGTERM each process group, then SIGKILL what is left after ``timeout_s``."""
    for process in processes:
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + timeout_s
    for process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            process.wait(timeout=10)


@dataclass
class Topology:
    """The three processes of `kedah-analytics serve`; stop() ends all of them."""

    webserver_url: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        # The webserver and daemon first: they are clients of the code server.
        stop(list(reversed(self.processes)))


def start_topology(
    *,
    workspace: Path,
    cwd: Path,
    env: Mapping[str, str],
    host: str = "127.0.0.1",
    port: int = 3000,
    code_port: int = 4266,
    timeout_s: float = 180.0,
    output: int | None = None,
    code_module: str = CODE_MODULE,
) -> Topology:
    """Start the code server (serving ``code_module``'s definitions), wait until it serves, then
    the webserver and the daemon, all reading ``workspace`` (a grpc_server workspace, see
    deploy/workspace.grpc.yaml). Each runs in its own process group so that stopping one never
    signals this process."""
    env = {**env, CODE_SERVER_HOST_ENV: host, CODE_SERVER_PORT_ENV: str(code_port)}
    topology = Topology(webserver_url=f"http://{host}:{port}")

    def spawn(command: list[str]) -> subprocess.Popen:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=output,
                                   start_new_session=True)  # fmt: skip
        topology.processes.append(process)
        return process

    try:
        code_server = spawn(code_server_command(host, code_port, code_module))
        wait_for_port(host, code_port, code_server, timeout_s)
        webserver = spawn(webserver_command(workspace, host, port))
        spawn(daemon_command(workspace))
        wait_for_webserver(topology.webserver_url, webserver, timeout_s)
    except BaseException:
        topology.stop()
        raise
    return topology


def start_worker(
    options: ExecutorOptions,
    *,
    dagster_home: Path,
    cwd: Path,
    env: Mapping[str, str],
    name: str,
    concurrency: int = 1,
    output: int | None = None,
) -> subprocess.Popen:
    """One dagster-celery worker on the project's queue, in its own process group (so that the
    worker and its pool children stop together)."""
    config_path = dagster_home / "celery_worker.yaml"
    # The broker URL may hold a password: readable by its owner only.
    fd = os.open(config_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(worker_config_yaml(options))
    command = worker_command(options, str(config_path), name=name, concurrency=concurrency)
    command[0] = _bin(command[0])
    # dagster-celery starts `celery` from the PATH: this environment's.
    path = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", os.defpath)])
    return subprocess.Popen(
        command, cwd=cwd, env={**env, "DAGSTER_HOME": str(dagster_home), "PATH": path}, stdout=output,
        stderr=output, start_new_session=True,
    )  # fmt: skip
