"""Versioned, forward-only migrations of schema ``kedah``, safe to run any number of times.

Each ``NNNN_name.sql`` file runs once, in its own transaction, under an advisory lock so that
Dagster's processes starting together never race; applied versions are kept in
``kedah.schema_migrations`` with the file's checksum, and a changed applied file is an error.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from importlib import resources

from kedah_analytics.warehouse.connection import connect

_LOCK_ID = 0x4B454441  # "KEDA"
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations() -> list[Migration]:
    folder = resources.files("kedah_analytics.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        if match := _NAME.match(entry.name):
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    versions = [m.version for m in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a version number: {sorted(versions)}")
    return sorted(found, key=lambda m: m.version)


def apply_migrations(conninfo: str) -> list[str]:
    """Bring schema ``kedah`` up to date. Returns the names of the migrations applied now."""
    applied_now: list[str] = []
    with connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS kedah")
            conn.execute(
                """CREATE TABLE IF NOT EXISTS kedah.schema_migrations (
                       version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done: dict[int, str] = dict(
                conn.execute("SELECT version, checksum FROM kedah.schema_migrations").fetchall()
            )
            for migration in available_migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        raise RuntimeError(
                            f"migration {migration.version:04d}_{migration.name} was changed after it "
                            "was applied; add a new migration instead of editing an applied one"
                        )
                    continue
                with conn.transaction():
                    conn.execute(migration.sql)
                    conn.execute(
                        "INSERT INTO kedah.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (migration.version, migration.name, migration.checksum),
                    )
                applied_now.append(f"{migration.version:04d}_{migration.name}")
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return applied_now
