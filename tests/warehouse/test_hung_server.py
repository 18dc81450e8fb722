"""A PostgreSQL that accepts the connection and never answers fails within the connect timeout,
with a message naming host and port, in the library and the CLI (instead of hanging minutes)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kedah_analytics.warehouse.connection import WarehouseUnavailable, connect, with_timeouts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def hung_server() -> Iterator[int]:
    """A socket that accepts connections and never says a word."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
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


def test_urls_get_a_connect_timeout_unless_they_name_one():
    assert with_timeouts("postgresql://u@h:5432/db") == "postgresql://u@h:5432/db?connect_timeout=10"
    assert with_timeouts("postgresql://u@h/db?sslmode=require").endswith("&connect_timeout=10")
    assert with_timeouts("postgresql://u@h/db?connect_timeout=3") == "postgresql://u@h/db?connect_timeout=3"
