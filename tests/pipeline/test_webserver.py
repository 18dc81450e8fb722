"""A real dagster-webserver on the project's workspace, asked through its GraphQL API."""

import logging
import shutil
from pathlib import Path

import pytest
from dagster_ui import graphql, running_webserver
from databases import new_database

ROOT = Path(__file__).resolve().parents[2]
QUERY = """
{ assetNodes { assetKey { path }
    partitionDefinition { type dimensionTypes { name type } }
    dependencyKeys { path } } }
"""


@pytest.fixture
def own_database(pg_server_url):
    """A database of its own (warehouse and Dagster's storage): the check statuses the UI shows
    are this test's runs only, whatever ran earlier in the session."""
    with new_database(pg_server_url, "kedah_web") as url:
        yield url


@pytest.fixture
def webserver(own_database, tmp_path, monkeypatch):
    """A webserver on its own Dagster home, which the test's in-process runs share (DAGSTER_HOME)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("KEDAH_SOURCE_MODE", "demo")
    monkeypatch.setenv("KEDAH_PG_URL", own_database)
    # Stopped after with a SIGKILL where SIGTERM is not enough within 30 s (a loaded machine).
    with running_webserver(own_database, home) as url:
        yield int(url.rsplit(":", 1)[1])


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


CHECK_STATUSES = """query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name partitionStatuses { __typename
    ... on AssetCheckTimePartitionStatuses { ranges { startKey endKey status } }
    ... on AssetCheckMultiPartitionStatuses { ranges { primaryDimStartKey primaryDimEndKey secondaryDim {
      ... on AssetCheckDefaultPartitionStatuses { succeededPartitions failedPartitions inProgressPartitions
          skippedPartitions executionFailedPartitions } } } } } } } } } } }"""


def _statuses(url: str, asset: str) -> dict[str, dict[str, set[str]]]:
    """Each check of ``asset``: its partitions (the UI's Partitions tab) by status."""
    node = graphql(url, CHECK_STATUSES, {"k": {"path": [asset]}})["assetNodeOrError"]
    out: dict[str, dict[str, set[str]]] = {}
    for check in node["assetChecksOrError"]["checks"]:
        by_status: dict[str, set[str]] = {}
        statuses = check["partitionStatuses"] or {"ranges": []}
        for r in statuses["ranges"]:
            if "status" in r:  # a daily check: ranges of days
                by_status.setdefault(r["status"], set()).update({r["startKey"], r["endKey"]})
                continue
            for field, keys in r["secondaryDim"].items():  # date x platform: platforms per run of days
                if not keys:
                    continue
                status = field.removesuffix("Partitions").upper()
                by_status.setdefault(status, set()).update(
                    f"{day}|{platform}"
                    for day in {r["primaryDimStartKey"], r["primaryDimEndKey"]}
                    for platform in keys
                )
        out[check["name"]] = by_status
    return out


def test_after_ranged_runs_each_checked_partition_shows_passed_and_none_skipped(webserver, caplog, capfd):
    """Seeding runs every stage over a range of days in one run each: the UI shows each check's
    result on each partition (Dagster alone would show them all Skipped). Its console says what
    ran, a line per run and step, without Dagster's DEBUG events."""
    import dagster as dg

    from kedah_analytics.definitions import materialize_recent_days

    caplog.set_level(logging.INFO, logger="kedah_analytics.seed")
    with dg.DagsterInstance.get() as instance:
        summary = materialize_recent_days(2, instance)
    lines = [r.getMessage() for r in caplog.records if r.name == "kedah_analytics.seed"]
    runs = int(summary.split(" runs")[0].rsplit(" ", 1)[1])
    assert len([line for line in lines if line.startswith("run ")]) == runs
    assert any(line.split()[0] == "raw_posts_raw_posts_required_fields" for line in lines)
    console = capfd.readouterr().err  # the steps' warnings stay in the runs' logs, counted on the run's line
    assert " - DEBUG - " not in console and " - WARNING - " not in console
    url = f"http://127.0.0.1:{webserver}"
    for asset in ("raw_posts", "classified_posts", "place_daily_metrics", "place_rankings", "alerts"):
        checks = _statuses(url, asset)
        assert checks, asset
        for name, by_status in checks.items():
            assert set(by_status) <= {"SUCCEEDED"} and by_status.get("SUCCEEDED"), (asset, name, by_status)
