"""Quarantined items: what could not be used, with the reason, never silently dropped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from kedah_analytics.domain import QuarantinedRecord
from kedah_analytics.warehouse.locks import lock_keys
from kedah_analytics.warehouse.sanitize import clean_json, clean_text

MAX_REASON_CHARS = 2000


def record_hash(payload: Any) -> str:
    """The payload's identity; computed on the sanitized payload so any value can be hashed."""
    cleaned, _ = clean_json(payload)
    return hashlib.sha256(json.dumps(cleaned, sort_keys=True).encode()).hexdigest()


def _label(value: Any) -> str:
    return clean_text(value if isinstance(value, str) else repr(value))


def quarantine_rows(
    asset: str, partition_key: str, records: Sequence[QuarantinedRecord]
) -> list[tuple[str, str, str, str, str, str, Jsonb]]:
    """The rows of ``kedah.quarantine`` for ``records``: any payload, reason or label is storable."""
    rows = []
    for r in records:
        payload, _ = clean_json(r.payload if isinstance(r.payload, dict) else {"item": r.payload})
        rows.append(
            (
                clean_text(asset),
                _label(r.platform),
                _label(r.provider),
                record_hash(payload),
                clean_text(partition_key),
                _label(r.reason)[:MAX_REASON_CHARS],
                Jsonb(payload),
            )
        )
    return rows


def quarantine_records(
    conn: psycopg.Connection, asset: str, partition_key: str, records: Sequence[QuarantinedRecord]
) -> int:
    """Store quarantined items idempotently (one row per asset, platform and payload)."""
    if not records:
        return 0
    rows = quarantine_rows(asset, partition_key, records)
    with conn.transaction(), conn.cursor() as cur:
        # Two runs quarantining the same item at once must not collide on the key.
        lock_keys(cur, [("quarantine", asset, platform, digest) for _, platform, _, digest, *_ in rows])
        cur.executemany(
            """INSERT INTO kedah.quarantine (asset, platform, provider, record_hash, partition_key, reason, payload)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (asset, platform, record_hash)
               DO UPDATE SET reason = EXCLUDED.reason, last_seen_at = now()""",
            rows,
        )
    return len(records)
