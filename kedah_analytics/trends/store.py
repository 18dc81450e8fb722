"""The trend model history in ``kedah.trend_model``: which model serves on a given day."""

from __future__ import annotations

from datetime import date, timedelta

import psycopg

from kedah_analytics.trends.model import StaleModelError, TrendModel, load_model


def serving_model_before(conn: psycopg.Connection, week_start: date) -> TrendModel | None:
    """The model serving when the week starting ``week_start`` is trained: the newest earlier
    week's (None when there is none or it is of an older model format: the candidate is then
    judged against the baselines alone)."""
    return _latest_serving_model(conn, "week_start < %s", week_start)


def serving_model_on(conn: psycopg.Connection, day: date) -> TrendModel | None:
    """The model serving on ``day``: trained on a week that ended before ``day``. None when there
    is none, or when it was stored in an older model format (seasonal-naive serves until the next
    weekly run trains one)."""
    return _latest_serving_model(conn, "week_start + 7 <= %s", day)


def _latest_serving_model(conn: psycopg.Connection, condition: str, value: date) -> TrendModel | None:
    """The serving model of the latest week meeting ``condition``; None when there is none or it
    is in an older model format."""
    row = conn.execute(
        f"SELECT serving_model FROM kedah.trend_model WHERE {condition} ORDER BY week_start DESC LIMIT 1",
        (value,),
    ).fetchone()
    if not row:
        return None
    try:
        return load_model(bytes(row[0]))
    except StaleModelError:
        return None


def week_window(week_start: date, weeks_before: int) -> tuple[date, date]:
    """First and last day of the training window ending with the week that starts ``week_start``."""
    return week_start - timedelta(weeks=weeks_before), week_start + timedelta(days=6)


def serving_note(conn: psycopg.Connection, day: date) -> str:
    """What serves on ``day`` and why, in words: the week whose training chose it, the candidate
    trained then and whether it was promoted (and the reason), or why seasonal-naive serves."""
    before = conn.execute(
        """SELECT week_start, candidate_version, promoted, serving_kind, serving_version, reason
           FROM kedah.trend_model WHERE week_start + 7 <= %s ORDER BY week_start DESC LIMIT 1""",
        (day,),
    ).fetchone()
    if before is None:
        later = conn.execute(
            "SELECT min(week_start) FROM kedah.trend_model WHERE week_start + 7 > %s", (day,)
        ).fetchone()
        when = (
            f"; the week of {later[0]}'s training serves from {later[0] + timedelta(days=7)}"
            if later and later[0]
            else ""
        )
        return (
            f"{day}: seasonal-naive serves: no model was trained on a week that ended before this day{when}"
        )
    week, candidate, promoted, kind, version, reason = before
    verdict = "promoted" if promoted else "not promoted"
    return f"{day}: {kind} {version} serves, chosen by the week of {week}'s training (candidate {candidate} {verdict}: {reason})"
