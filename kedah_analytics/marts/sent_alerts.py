"""Which alerts have been sent: the ledger the ``send_alerts`` sensor writes, never replaced by a
re-run of the alerts asset."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import psycopg


@dataclass(frozen=True)
class PendingAlert:
    alert_id: str
    date: date
    message: str


def pending_alerts(conn: psycopg.Connection, limit: int = 50) -> list[PendingAlert]:
    """Alerts not yet notified (or skipped), oldest first."""
    rows = conn.execute(
        """SELECT a.alert_id, a.date, a.message FROM kedah.alerts a
           LEFT JOIN kedah.alert_notifications n USING (alert_id)
           WHERE n.alert_id IS NULL
           ORDER BY a.date, a.alert_id LIMIT %s""",
        (limit,),
    ).fetchall()
    return [PendingAlert(*row) for row in rows]


def mark_notified(conn: psycopg.Connection, alert: PendingAlert, channel: str) -> bool:
    """Record that an alert went out (or was skipped); False if another process already did."""
    inserted = conn.execute(
        """INSERT INTO kedah.alert_notifications (alert_id, date, channel) VALUES (%s, %s, %s)
           ON CONFLICT (alert_id) DO NOTHING""",
        (alert.alert_id, alert.date, channel),
    ).rowcount
    return inserted == 1
