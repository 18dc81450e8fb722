"""What notebooks call: the warehouse tables as DataFrames, demo rows left out unless asked for."""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg

from kedah_analytics.config import resolve_pg_url


def connect(url: str | None = None) -> psycopg.Connection:
    """A connection to KEDAH_PG_URL, or to the embedded server (started if needed)."""
    return psycopg.connect(url or resolve_pg_url())


def _frame(conn: psycopg.Connection, query: str, params: tuple) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [c.name for c in cur.description or []]
        return pd.DataFrame.from_records(cur.fetchall(), columns=columns)


def place_daily_metrics(
    conn: psycopg.Connection, start: date, end: date, *, include_demo: bool = False
) -> pd.DataFrame:
    """Daily metrics per place and platform between ``start`` and ``end`` (inclusive)."""
    return _frame(
        conn,
        """SELECT * FROM kedah.place_daily_metrics
           WHERE date BETWEEN %s AND %s AND (%s OR provider <> 'demo')
           ORDER BY date, city, place_id, platform""",
        (start, end, include_demo),
    )


def posts(
    conn: psycopg.Connection,
    start: date,
    end: date,
    *,
    include_demo: bool = False,
    include_spam: bool = False,
) -> pd.DataFrame:
    """Posts with their text and classification (the ``kedah.posts`` view)."""
    return _frame(
        conn,
        """SELECT * FROM kedah.posts
           WHERE date BETWEEN %s AND %s AND (%s OR provider <> 'demo') AND (%s OR NOT coalesce(is_spam, false))
           ORDER BY created_at""",
        (start, end, include_demo, include_spam),
    )


def trend_predictions(conn: psycopg.Connection, day: date) -> pd.DataFrame:
    """The day's top rising terms, best first."""
    return _frame(conn, "SELECT * FROM kedah.trend_predictions WHERE date = %s ORDER BY rank", (day,))


def trend_model_history(conn: psycopg.Connection) -> pd.DataFrame:
    """Every weekly training: window, backtest metrics, whether the candidate was promoted and why."""
    return _frame(
        conn,
        """SELECT week_start, training_start, training_end, candidate_version, promoted, serving_version,
                  reason, metrics FROM kedah.trend_model ORDER BY week_start""",
        (),
    )
