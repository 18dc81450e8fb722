"""The board's commands: the report refuses what it cannot show, and ``kedah-analytics dev`` (what
``make run`` runs) starts the webserver, daemon, API and dashboard, prints four URLs, and Ctrl-C
stops them all."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from kedah_analytics import cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--city", "Nowhere", "--week", "2026-W47"], "unknown city 'Nowhere': use one of All Kedah"),
        (["--city", "Langkawi", "--week", "2026-W40"], "the marts hold no demo rows for 2026-W40"),
        (["--city", "Langkawi", "--week", "2099-W01"], "has no complete Kedah day yet"),
    ],
)
def test_the_report_exits_non_zero_and_says_why(demo_warehouse, monkeypatch, tmp_path, capsys, argv, message):
    monkeypatch.setenv("KEDAH_PG_URL", demo_warehouse)
    out = tmp_path / "report.html"
    assert cli.main(["report", *argv, "--out", str(out)]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_the_report_takes_a_slug(demo_warehouse, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("KEDAH_PG_URL", demo_warehouse)
    out = tmp_path / "report.html"
    assert cli.main(["report", "--city", "sungai-petani", "--week", "2026-W47", "--out", str(out)]) == 0
    assert "Sungai Petani, 2026-W47, demo data" in capsys.readouterr().out
    assert "Our accounts" in out.read_text()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_dev_starts_four_servers_prints_their_urls_and_ctrl_c_stops_them(demo_warehouse):
    ports = [_free_port() for _ in range(3)]
    env = {**os.environ, "KEDAH_PG_URL": demo_warehouse, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "kedah_analytics.cli", "dev", "--days", "0", "--port", str(ports[0]),
               "--api-port", str(ports[1]), "--dashboard-port", str(ports[2])]  # fmt: skip
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True, start_new_session=True)  # fmt: skip
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 240
        assert process.stdout is not None
        while time.monotonic() < deadline and not any("Ctrl-C stops all four" in line for line in lines):
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            lines.append(line)
        printed = "".join(lines)
        urls = re.findall(r"^(?:Dagster UI|API|API docs|Dashboard): +(http://\S+)", printed, flags=re.M)
        assert len(urls) == 4, printed[-3000:]
        for url in urls:
            with urllib.request.urlopen(url, timeout=10) as response:
                assert response.status == 200, url
        with urllib.request.urlopen(f"http://127.0.0.1:{ports[1]}/health", timeout=10) as response:
            assert json.load(response)["database"] == "reachable"
        children = subprocess.run(
            ["pgrep", "-P", str(process.pid)], capture_output=True, text=True
        ).stdout.split()
        assert len(children) == 4  # webserver, daemon, API and dashboard
    finally:
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
    time.sleep(1)
    for port in ports:
        with socket.socket() as sock:
            assert sock.connect_ex(("127.0.0.1", port)) != 0, f"port {port} still answers after Ctrl-C"
