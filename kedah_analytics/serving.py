"""The board's window as processes: the commands that start the HTTP API (uvicorn) and the
dashboard (``streamlit run``), and the process handling ``make run`` shares with them: each in its
own process group, waited for until it answers, and stopped together on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from kedah_analytics.api.server import is_loopback

DASHBOARD_APP = Path(__file__).resolve().parent / "dashboard" / "app.py"


def api_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "kedah_analytics.cli", "api", "--host", host, "--port", str(port)]


def dashboard_command(host: str, port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(DASHBOARD_APP), "--server.headless", "true",
            "--server.address", host, "--server.port", str(port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none", "--client.toolbarMode", "viewer"]  # fmt: skip


def check_dashboard_bind(host: str, public: bool) -> None:
    """The dashboard has no login of its own: beyond this machine only when asked for."""
    if not is_loopback(host) and not public:
        raise ValueError(
            f"refusing to serve the dashboard on {host}: it has no login of its own; put it behind a proxy "
            "that authenticates and pass --public, or bind 127.0.0.1"
        )


def default_sigint() -> None:
    # A child of a non-interactive shell inherits SIGINT as ignored; the servers must see it.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stop_on_signal(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def start(commands: Sequence[Sequence[str]], cwd: Path, env: Mapping[str, str]) -> list[subprocess.Popen]:
    """Each command in its own process group, so stopping one stops its children too."""
    return [
        subprocess.Popen(
            list(command), cwd=cwd, env=dict(env), start_new_session=True, preexec_fn=default_sigint
        )
        for command in commands
    ]


def stop(processes: Sequence[subprocess.Popen], timeout_s: float = 30.0) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def wait_until_one_exits(processes: Sequence[subprocess.Popen]) -> None:
    """Return once any of ``processes`` has exited (polled each second)."""
    while all(process.poll() is None for process in processes):
        time.sleep(1)


def wait_for_http(url: str, process: subprocess.Popen, timeout_s: float = 120.0) -> bool:
    """Whether ``url`` answers 200 before ``process`` exits or the time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False
