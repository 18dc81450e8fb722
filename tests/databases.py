"""Databases of their own on the test server, for tests whose Dagster storage or warehouse must
hold their own runs only."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

import psycopg

from kedah_analytics.warehouse import apply_migrations


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
