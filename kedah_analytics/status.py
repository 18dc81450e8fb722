"""What the data itself is: which rows a figure may use (real, demo or both), which days the marts
hold, the marts' version (the key of every cache and ETag), collection freshness per platform and
the trend model's training status. The API, the dashboard, the report and the notebooks ask here."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import date, datetime
from typing import Any, Literal

import psycopg

from kedah_analytics.deferrals import active_deferrals
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.marts.periods import Period, resolve

# ``include_demo``: False (real rows only, the default), True (real and demo rows), or "only"
# (demo rows only: what a fresh install without credentials has).
IncludeDemo = bool | Literal["only"]
DATA_CHOICES = ("auto", "real", "demo", "all")
# Raw and classified posts carry a freshness policy that fails after 3 hours.
FRESH_HOURS = 3.0


def providers(include_demo: IncludeDemo) -> list[str]:
    """The marts' provider kinds a figure reads."""
    if include_demo == "only":
        return ["demo"]
    return ["real", "demo"] if include_demo else ["real"]


def days_covered(
    conn: psycopg.Connection,
    period: Period | str,
    *,
    include_demo: IncludeDemo = False,
    accounts: bool = False,
) -> int:
    """How many days of the period the marts (or, ``accounts``, the own-account metrics) hold: the
    days a change may count."""
    p = resolve(period)
    table = "account_daily_metrics" if accounts else "city_daily_overview"
    row = conn.execute(
        f"""SELECT count(DISTINCT date) FROM kedah.{table} WHERE date BETWEEN %s AND %s
            AND (CASE WHEN provider = 'demo' THEN 'demo' ELSE 'real' END) = ANY(%s)""",  # noqa: S608 (from code)
        (p.start, p.end, providers(include_demo)),
    ).fetchone()
    return int(row[0]) if row else 0


def latest_day(
    conn: psycopg.Connection, table: str = "city_daily_overview", *, include_demo: IncludeDemo = False
) -> date | None:
    """The last day a mart holds rows for (``table`` is one of the marts)."""
    if table not in ("city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts"):
        raise ValueError(f"not a mart: {table}")
    row = conn.execute(
        f"SELECT max(date) FROM kedah.{table} WHERE provider = ANY(%s)",  # noqa: S608 (name checked above)
        (providers(include_demo),),
    ).fetchone()
    return row[0] if row else None


def kinds_in(conn: psycopg.Connection, period: Period | str) -> set[str]:
    """The provider kinds (``real``, ``demo``) the overview holds in the period."""
    p = resolve(period)
    rows = conn.execute(
        "SELECT DISTINCT provider FROM kedah.city_daily_overview WHERE date BETWEEN %s AND %s",
        (p.start, p.end),
    ).fetchall()
    return {row[0] for row in rows}


def has_real_rows(conn: psycopg.Connection, period: Period | str) -> bool:
    """Whether the overview holds real (non-demo) rows in the period."""
    return "real" in kinds_in(conn, period)


def rows_for(conn: psycopg.Connection, period: Period | str, data: str = "auto") -> tuple[IncludeDemo, str]:
    """Which rows to read for ``data`` (``auto``: real rows where the period has any, else the demo
    rows; ``real``; ``demo``; ``all``: both) and what the figures then hold: ``real``, ``demo``,
    ``mixed`` or ``none`` (the period holds no rows of that kind)."""
    if data not in DATA_CHOICES:
        raise ValueError(f"data must be one of {', '.join(DATA_CHOICES)}")
    kinds = kinds_in(conn, period)
    if data == "auto":
        data = "real" if "real" in kinds else "demo"
    include: IncludeDemo = False if data == "real" else "only" if data == "demo" else True
    held = kinds & set(providers(include))
    return include, ("mixed" if len(held) == 2 else held.pop() if held else "none")


def mart_version(conn: psycopg.Connection) -> str:
    """A short tag that changes with every write to a mart, the predictions or the account metrics
    (bumped in the writing transaction, migration 0019): the key of caches and ETags."""
    rows = conn.execute("SELECT mart, version FROM kedah.mart_versions ORDER BY mart").fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest()[:16]


MART_CHANNEL = "kedah_marts"  # migration 0019's trigger notifies it when a mart's version moves


def listen_for_mart_changes(url: str, on_change: Callable[[bool], None], stop: threading.Event) -> None:
    """Call ``on_change(True)`` whenever a mart's version moves (the NOTIFY arrives at the writer's
    commit), and once each time listening starts, since a change may have been missed;
    ``on_change(False)`` when the connection is lost (readers must then ask the database). Returns
    when ``stop`` is set."""
    while not stop.is_set():
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=10) as conn:
                conn.execute(f"LISTEN {MART_CHANNEL}")
                on_change(True)
                while not stop.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        on_change(True)
        except psycopg.Error:
            on_change(False)
            stop.wait(2.0)


def marts_span(conn: psycopg.Connection) -> dict[str, Any]:
    """The first and last day the overview holds, per kind, and when a mart last changed."""
    row = conn.execute(
        """SELECT min(date), max(date), min(date) FILTER (WHERE provider = 'real'),
                  max(date) FILTER (WHERE provider = 'real') FROM kedah.city_daily_overview"""
    ).fetchone()
    changed = conn.execute("SELECT max(changed_at) FROM kedah.mart_versions").fetchone()
    first, last, first_real, last_real = row if row else (None, None, None, None)
    return {"first_day": first, "latest_day": last, "first_real_day": first_real, "latest_real_day": last_real,
            "changed_at": changed[0] if changed else None}  # fmt: skip


def collection_status(conn: psycopg.Connection, now: datetime) -> list[dict[str, Any]]:
    """Per platform: when posts last arrived, how many are stored (and in the last day), which
    providers gave them, whether the collection is fresh (posts within the last 3 hours), and until
    when it is deferred because a quota ran out."""
    rows = conn.execute(
        """SELECT platform, max(fetched_at), count(*), count(*) FILTER (WHERE fetched_at >= %s - interval '1 day'),
                  array_agg(DISTINCT provider ORDER BY provider), min(date), max(date)
           FROM kedah.raw_posts GROUP BY platform""",
        (now,),
    ).fetchall()
    found = {r[0]: r for r in rows}
    deferred = active_deferrals(conn, now)
    out = []
    for platform in PLATFORMS:
        _, last, total, recent, names, first_day, last_day = found.get(
            platform, (platform, None, 0, 0, [], None, None)
        )
        hours = None if last is None else round((now - last).total_seconds() / 3600, 2)
        out.append({"platform": platform, "last_fetched_at": last, "posts": total, "posts_last_24h": recent,
                    "providers": list(names), "data": _kind(list(names)), "first_day": first_day,
                    "latest_day": last_day, "hours_since_fetch": hours,
                    "fresh": hours is not None and hours <= FRESH_HOURS,
                    # Until when its polls are skipped because a quota ran out (None: polled as usual).
                    "deferred_until": deferred[platform].until if platform in deferred else None})  # fmt: skip
    return out


def _kind(names: list[str]) -> str:
    kinds = {"demo" if name == "demo" else "real" for name in names}
    return "mixed" if len(kinds) == 2 else kinds.pop() if kinds else "none"


def training_status(conn: psycopg.Connection) -> dict[str, Any] | None:
    """The latest weekly training of the trend model: window, whether the candidate serves, why."""
    row = conn.execute(
        """SELECT week_start, training_start, training_end, candidate_version, promoted, serving_version,
                  serving_kind, reason, metrics FROM kedah.trend_model ORDER BY week_start DESC LIMIT 1"""
    ).fetchone()
    if row is None:
        return None
    keys = ("week_start", "training_start", "training_end", "candidate_version", "promoted", "serving_version",
            "serving_kind", "reason", "metrics")  # fmt: skip
    return dict(zip(keys, row, strict=True))


def latest_prediction_day(conn: psycopg.Connection) -> date | None:
    """The last day with trend predictions."""
    row = conn.execute("SELECT max(date) FROM kedah.trend_predictions").fetchone()
    return row[0] if row else None
