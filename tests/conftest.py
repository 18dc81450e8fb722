"""A real PostgreSQL for the tests: the server named by KEDAH_PG_URL, else the embedded one.

Each test session gets a database of its own (created here, dropped at the end), so the tests
never touch a developer's data; each test that asks for ``warehouse_url`` starts from empty tables.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

warnings.filterwarnings("ignore", category=Warning, module="dagster")
warnings.filterwarnings("ignore", message=".*is currently in beta.*")
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


def _with_database(url: str, dbname: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


@pytest.fixture(scope="session")
def pg_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An admin URL: KEDAH_PG_URL if set, else a throwaway embedded server."""
    if url := os.environ.get("KEDAH_PG_URL"):
        yield url
        return
    import pgserver

    # One server for the whole session, shared by the xdist workers (pgserver counts the processes
    # that hold it and the last one stops and deletes it): one server starts rather than one per
    # worker, and the workers can clone each other's seeded databases (tests/databases.py).
    if os.environ.get("PYTEST_XDIST_WORKER"):
        pgdata = tmp_path_factory.getbasetemp().parent / "pg"
    else:
        pgdata = tmp_path_factory.mktemp("pg")
    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    yield server.get_uri()
    from databases import release_embedded_server

    release_embedded_server(server, pgdata, f"pg-{os.getpid()}.log")


@pytest.fixture(scope="session")
def pg_url(pg_server_url: str) -> Iterator[str]:
    """A fresh database for this session, migrated, exported as KEDAH_PG_URL."""
    name = f"kedah_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(pg_server_url, name)
    from kedah_analytics.warehouse import apply_migrations

    apply_migrations(url)
    previous = os.environ.get("KEDAH_PG_URL")
    os.environ["KEDAH_PG_URL"] = url
    yield url
    if previous is None:
        os.environ.pop("KEDAH_PG_URL", None)
    else:
        os.environ["KEDAH_PG_URL"] = previous
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def warehouse_url(pg_url: str) -> str:
    """The session database with every warehouse table empty."""
    from databases import empty_warehouse

    empty_warehouse(pg_url)
    return pg_url


@pytest.fixture
def conn(warehouse_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(warehouse_url, autocommit=True) as connection:
        yield connection


# What `make test-fast` leaves out: tests that start Dagster processes (daemon, webserver, code
# server, Celery workers, the CLI in a subprocess) or run long pipelines end to end. Named here, in
# one list, rather than by decorators scattered over files, so the fast lane is easy to review.
SLOW = (
    "tests/pipeline/test_automation_daemon.py",
    "tests/pipeline/test_dead_workers.py",
    "tests/pipeline/test_webserver.py",
    "tests/pipeline/test_run_layout.py",
    "tests/pipeline/test_raw_posts_chunks.py",
    "tests/pipeline/test_trend_assets.py",
    "tests/pipeline/test_cli.py",
    "tests/pipeline/test_operations.py",
    "tests/pipeline/test_configuration.py::test_the_code_location_refuses_to_load_with_a_mistake",
    "tests/pipeline/test_configuration.py::test_check_config",
    "tests/pipeline/test_stale_partitions.py",
    "tests/scale/",
    "tests/marts/test_notebooks.py",
    # The seeded demo warehouse (tests/marts/conftest.py) runs every stage over ten days first.
    "tests/marts/test_dashboard.py",
    "tests/marts/test_api.py",
    "tests/marts/test_marts_pipeline.py",
    # Nine weeks of demo posts through every stage, then the marts twice over (about a minute).
    "tests/marts/test_marts_chunks.py",
    "tests/warehouse/test_concurrent_writers.py",
    "tests/warehouse/test_hung_server.py",
    "tests/test_settings.py::test_check_config",
    "tests/test_settings.py::test_seed",
    "tests/pipeline/test_arrival_order.py",
    "tests/pipeline/test_month_sim.py",
    "tests/pipeline/test_no_stale_partition_daemon.py",
    "tests/marts/test_dashboard_browser.py",
    "tests/marts/test_board_commands.py",
    "tests/pipeline/test_pooled_storage.py",
    "tests/pipeline/test_backfill_workers.py",
    "tests/test_import_cost.py",
)


# The files that take longest, longest first (measured with --durations; README, Tests). They are
# collected first so that `--dist loadfile` starts them first and gives the short files to
# whichever worker is free, rather than leaving one long file to run alone at the end.
LONGEST_FIRST = (
    "tests/pipeline/test_month_sim.py",
    "tests/pipeline/test_dead_workers.py",
    "tests/scale/test_celery.py",
    "tests/pipeline/test_no_stale_partition_daemon.py",
    "tests/pipeline/test_trend_assets.py",
    "tests/pipeline/test_automation_daemon.py",
    "tests/pipeline/test_arrival_order.py",
    "tests/warehouse/test_hung_server.py",
    "tests/marts/test_dashboard.py",
    "tests/pipeline/test_webserver.py",
    "tests/pipeline/test_assets.py",
    "tests/pipeline/test_raw_posts_chunks.py",
    "tests/sources/test_malformed_property.py",
    "tests/marts/test_api.py",
)


def _rank(item: pytest.Item) -> int:
    path = item.nodeid.split("::", 1)[0]
    return LONGEST_FIRST.index(path) if path in LONGEST_FIRST else len(LONGEST_FIRST)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
    items.sort(key=_rank)  # stable: the order within a file, and of the other files, is kept


def pytest_configure(config: pytest.Config) -> None:
    # The xdist controller picks the run's id itself, so that it knows which seeded templates its
    # workers made (tests/databases.py) and can drop them once they are all done.
    if hasattr(config.option, "testrunuid") and not os.environ.get("PYTEST_XDIST_WORKER"):
        config.option.testrunuid = config.option.testrunuid or uuid.uuid4().hex


def pytest_sessionfinish(session: pytest.Session) -> None:
    run, server = getattr(session.config.option, "testrunuid", None), os.environ.get("KEDAH_PG_URL")
    # An embedded server is deleted with its templates by its last worker; a named one keeps them.
    if run and server and not os.environ.get("PYTEST_XDIST_WORKER") and session.config.option.numprocesses:
        from databases import drop_seed_templates

        drop_seed_templates(server, run)
