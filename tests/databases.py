"""Databases of their own on the test server, for tests whose Dagster storage or warehouse must
hold their own runs only."""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

from kedah_analytics.warehouse import apply_migrations

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def new_database(pg_server_url: str, prefix: str) -> Iterator[str]:
    """A database of its own on the test server, migrated; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(pg_server_url)._replace(path=f"/{name}"))
    try:
        apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def empty_warehouse(url: str) -> None:
    """Every table of the warehouse emptied (the migrations' ledger kept): whatever a test leaves
    behind (search interest, a trend model, a deferral, a cursor) never reaches the next test in
    that worker. Only the tables holding rows are truncated: TRUNCATE costs about a millisecond a
    table even when empty, and most tests leave most tables empty."""
    with psycopg.connect(url) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'kedah' AND tablename <> 'schema_migrations'"
        )]  # fmt: skip
        occupied = conn.execute(sql.SQL(" UNION ALL ").join(
            sql.SQL("(SELECT {} FROM kedah.{} LIMIT 1)").format(sql.Literal(t), sql.Identifier(t)) for t in tables
        )).fetchall()  # fmt: skip
        if occupied:
            names = sql.SQL(", ").join(sql.Identifier("kedah", t) for (t,) in occupied)
            conn.execute(sql.SQL("TRUNCATE {}").format(names))


@contextmanager
def database_on_a_server_of_its_own(pgdata: Path, prefix: str) -> Iterator[str]:
    """A migrated database on a throwaway embedded server in ``pgdata``, for tests that kill
    processes mid-write: whatever they take down, the server the other workers share is not
    touched. The server and its data are deleted afterwards; its log is kept beside ``pgdata``."""
    import pgserver

    server = pgserver.get_server(pgdata, cleanup_mode="delete")
    with psycopg.connect(server.get_uri(), autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{prefix}"')
    url = urlunsplit(urlsplit(server.get_uri())._replace(path=f"/{prefix}"))
    apply_migrations(url)
    yield url  # not dropped: the whole server goes
    release_embedded_server(server, pgdata, f"{pgdata.name}.log")


def release_embedded_server(server: Any, pgdata: Path, log_name: str) -> None:
    """Let go of a throwaway embedded server (pgserver stops and deletes it when this process held
    it last). Its log is kept beside ``pgdata`` as ``log_name`` first, and shown in the warnings
    summary when the server had already stopped: what stopped it is then in the CI output."""
    log = pgdata / "log"
    if log.exists():
        shutil.copyfile(log, pgdata.parent / log_name)
        from kedah_analytics import embedded_pg

        if embedded_pg.status(pgdata) is None:
            lines = log.read_text(errors="replace").splitlines()
            stops = [
                line
                for line in lines
                if any(w in line for w in ("terminated by signal", "shutdown", "PANIC"))
            ]
            text = "\n".join([*stops[-20:], "...", *lines[-40:]])
            warnings.warn(
                f"the embedded PostgreSQL in {pgdata} stopped during the session:\n{text}", stacklevel=1
            )
    try:
        server.cleanup()
    except Exception as err:  # a slow shutdown of a throwaway server is not a test failure
        warnings.warn(f"embedded PostgreSQL cleanup: {err!r}", stacklevel=1)


@contextmanager
def seeded_database(pg_server_url: str, prefix: str, seed: Callable[[str], None]) -> Iterator[str]:
    """A database of its own, holding what ``seed`` (given a new migrated database's URL) writes.

    The xdist workers of one test session share the server (tests/conftest.py), so the first worker
    to ask seeds a template and each asking worker gets its own copy of it (``CREATE DATABASE ...
    TEMPLATE``, a file copy): the seed runs once a session rather than once a worker. Seeding,
    copying take turns under an advisory lock; the template is dropped when the session ends
    (:func:`drop_seed_templates`, by the xdist controller once every worker is done)."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID", uuid.uuid4().hex)[:12]
    template = f"{prefix}_seed_{run}"
    lock = int.from_bytes(hashlib.sha256(template.encode()).digest()[:8], "big", signed=True)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        admin.execute("SELECT pg_advisory_lock(%s)", (lock,))
        try:
            if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (template,)).fetchone():
                with new_database(pg_server_url, f"{prefix}_seeding") as seeding:
                    seed(seeding)
                    # A pooled connection the seed left open would block the rename.
                    admin.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                        (_name(seeding),),
                    )
                    admin.execute(f'ALTER DATABASE "{_name(seeding)}" RENAME TO "{template}"')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        finally:
            admin.execute("SELECT pg_advisory_unlock(%s)", (lock,))
    url = urlunsplit(urlsplit(pg_server_url)._replace(path=f"/{name}"))
    try:
        yield url
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            if not os.environ.get("PYTEST_XDIST_TESTRUNUID"):  # else the controller drops it at the end
                admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


def drop_seed_templates(pg_server_url: str, run: str) -> None:
    """Drop the templates :func:`seeded_database` left on the server in the session ``run``."""
    with psycopg.connect(pg_server_url, autocommit=True) as admin:
        names = [r[0] for r in admin.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s", (f"%\\_seed\\_{run[:12]}",)
        )]  # fmt: skip
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def instance_on(url: str, home: Path) -> Any:
    """A Dagster instance from this repository's dagster.yaml, its storage on database ``url``."""
    import dagster as dg
    import pytest

    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KEDAH_PG_URL", url)  # the storage dagster.yaml names
        return dg.DagsterInstance.from_config(str(home))
