"""A spent quota defers a source, it does not fail it.

When YouTube's daily allowance, X's daily post-read budget, the Graph API's usage or Google Trends'
patience runs out mid-run, the run keeps what it fetched and records a :class:`Deferral`: the source
(a platform, or ``google_trends``), until when, and why. It is kept in ``kedah.source_deferrals``
(migration 0021) so that the schedules, evaluated in the daemon's process, skip the source's ticks
until the reset, naming it, and poll again after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from kedah_analytics.sources.common.base import QuotaExhausted, QuotaSpent, RateLimited
from kedah_analytics.warehouse.connection import connect

# A quota or throttle that names no reset time: the source waits this long.
UNKNOWN_RESET = timedelta(hours=1)


@dataclass(frozen=True)
class Deferral:
    """``source`` is not polled until ``until`` (UTC) because ``reason`` (the provider's words)."""

    source: str
    provider: str
    until: datetime
    reason: str

    def skip_reason(self) -> str:
        """What a skipped schedule tick says."""
        return (
            f"{self.source} is deferred until {self.until.astimezone(UTC).isoformat()} "
            f"(the reset of its quota): {self.reason}"
        )

    def as_metadata(self) -> dict[str, Any]:
        return {"deferred_until": self.until.astimezone(UTC).isoformat(), "deferred_reason": self.reason}


def spent_quota(error: BaseException) -> QuotaSpent | None:
    """The allowance ``error`` says ran out (a spent quota or a rate limit), else None."""
    if isinstance(error, QuotaExhausted | RateLimited):
        return QuotaSpent(str(error), error.reset_at)
    return None


def deferral(source: str, provider: str, spent: QuotaSpent, now: datetime) -> Deferral:
    """Defer ``source`` until the allowance is whole again, as the source's own clock put it
    (``UNKNOWN_RESET`` from ``now`` when the provider did not say)."""
    until = spent.reset_at if spent.reset_at is not None else now + UNKNOWN_RESET
    return Deferral(source, provider, until.astimezone(UTC), spent.message)


def record_deferral(conninfo: str, deferred: Deferral) -> None:
    """Store ``deferred``, replacing the source's earlier deferral (the newest reset is the best known)."""
    with connect(conninfo, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO kedah.source_deferrals (source, provider, deferred_until, reason)
               VALUES (%s, %s, %s, %s)
               ON CONFLICT (source) DO UPDATE SET provider = EXCLUDED.provider,
                   deferred_until = EXCLUDED.deferred_until, reason = EXCLUDED.reason, recorded_at = now()""",
            (deferred.source, deferred.provider, deferred.until, deferred.reason),
        )


def active_deferrals(conn: psycopg.Connection, now: datetime) -> dict[str, Deferral]:
    """The sources deferred past ``now``."""
    rows = conn.execute(
        "SELECT source, provider, deferred_until, reason FROM kedah.source_deferrals WHERE deferred_until > %s",
        (now,),
    ).fetchall()
    return {row[0]: Deferral(row[0], row[1], row[2].astimezone(UTC), row[3]) for row in rows}


def active_deferral(conn: psycopg.Connection, source: str, now: datetime) -> Deferral | None:
    """``source``'s deferral if it lasts past ``now``, else None."""
    return active_deferrals(conn, now).get(source)
