"""A real dagster-webserver on the project's workspace, asked through its GraphQL API."""

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from dagster_ui import free_port, graphql

ROOT = Path(__file__).resolve().parents[2]
QUERY = """
{ assetNodes { assetKey { path }
    partitionDefinition { type dimensionTypes { name type } }
    dependencyKeys { path } } }
"""


@pytest.fixture
def webserver(pg_url, tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    port = free_port()
    env = {**os.environ, "DAGSTER_HOME": str(home), "KEDAH_PG_URL": pg_url}
    process = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-w", str(ROOT / "workspace.yaml"), "-h", "127.0.0.1",
         "-p", str(port)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"webserver exited: {process.stderr.read().decode()[-2000:]}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        pytest.fail("webserver did not answer /server_info within 90 s")
    yield port
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=30)


def test_graphql_lists_the_assets_with_date_and_platform_partitions(webserver):
    nodes = {
        tuple(n["assetKey"]["path"]): n for n in graphql(f"http://127.0.0.1:{webserver}", QUERY)["assetNodes"]
    }
    assert {("places",), ("raw_posts",), ("classified_posts",), ("place_daily_metrics",)} <= set(nodes)
    raw = nodes[("raw_posts",)]["partitionDefinition"]
    assert raw["type"] == "MULTIPARTITIONED"
    assert {(d["name"], d["type"]) for d in raw["dimensionTypes"]} == {
        ("date", "TIME_WINDOW"),
        ("platform", "STATIC"),
    }
    assert nodes[("place_daily_metrics",)]["partitionDefinition"]["type"] == "TIME_WINDOW"
    assert ["classified_posts"] in [k["path"] for k in nodes[("place_daily_metrics",)]["dependencyKeys"]]
    assert ["raw_posts"] in [k["path"] for k in nodes[("classified_posts",)]["dependencyKeys"]]
