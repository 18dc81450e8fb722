"""A throwaway database for a benchmark: on KEDAH_PG_URL's server, else the embedded one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from kedah_analytics.config.paths import resolve_pg_url
from kedah_analytics.warehouse import apply_migrations


@contextmanager
def scratch_database(prefix: str = "kedah_bench", server: str | None = None) -> Iterator[str]:
    server = server or resolve_pg_url()
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    try:
        apply_migrations(url)
        yield url
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
