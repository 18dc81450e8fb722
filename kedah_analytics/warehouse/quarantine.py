"""Quarantined items: what could not be used, with the reason, never silently dropped."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import psycopg
from psycopg.types.json import Jsonb

from kedah_analytics.domain import QuarantinedRecord


def record_hash(payload) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def quarantine_records(
    conn: psycopg.Connection, asset: str, partition_key: str, records: Sequence[QuarantinedRecord]
) -> int:
    """Store quarantined items idempotently (one row per asset, platform and payload)."""
    if not records:
        return 0
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO kedah.quarantine (asset, platform, provider, record_hash, partition_key, reason, payload)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (asset, platform, record_hash)
               DO UPDATE SET reason = EXCLUDED.reason, last_seen_at = now()""",
            [
                (
                    asset,
                    r.platform,
                    r.provider,
                    record_hash(r.payload),
                    partition_key,
                    r.reason,
                    Jsonb(json.loads(json.dumps(r.payload, default=str))),
                )
                for r in records
            ],
        )
    return len(records)
