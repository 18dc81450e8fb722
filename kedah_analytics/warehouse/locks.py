"""Writers of the same table and partition take turns.

Two runs replacing the same derived day both DELETE and then both COPY; without a lock the second
COPY meets the first one's rows (UniqueViolation) or, worse, both commit duplicates where no key
guards the table. Every write takes a transaction-level advisory lock per (table, partition)
before it deletes or merges, so the writers run one after the other and the rows equal a serial
run. Keys are taken in one fixed (sorted) order, so two writers of overlapping ranges never
deadlock; the locks end with the transaction, so a killed writer holds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import psycopg


def lock_id(key: tuple[Any, ...]) -> int:
    """A stable signed 64-bit id for ``key`` (the same in every process and release)."""
    digest = hashlib.blake2b(repr(tuple(str(part) for part in key)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_keys(cur: psycopg.Cursor, keys: Iterable[tuple[Any, ...]]) -> int:
    """Take the transaction-level advisory locks of ``keys``, in sorted order; returns how many.

    Must run inside a transaction: the locks are released when it commits or rolls back."""
    ids = sorted({lock_id(k) for k in keys})
    if ids:
        # unnest yields the array in order, and nothing sorts after it, so the locks are taken
        # in this order in every writer.
        cur.execute("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(%s::bigint[]) AS k", [ids])
    return len(ids)


def partition_lock_keys(
    table: str, columns: tuple[str, ...], values: Iterable[tuple[Any, ...]]
) -> list[tuple]:
    """One lock key per partition of ``table`` (the whole table when ``columns`` is empty)."""
    if not columns:
        return [(table, "*")]
    return [(table, *columns, *(_normal(v) for v in value)) for value in values]


def _normal(value: Any) -> str:
    # A pandas Timestamp, a datetime.date and its ISO text name the same partition.
    iso = getattr(value, "isoformat", None)
    if callable(iso):
        text = iso()
        return text[:10] if len(text) >= 10 and text[4] == "-" and "T00:00:00" in text else text
    return str(value)
