"""Which of the requested Kedah days a provider can still answer, and a note for every other one.

Recent-only APIs (X's 7 days, Instagram hashtags' 24 hours) cannot give older days; nothing can
give a day that has not begun. Such days get a note and no rows, and the raw table keeps what
earlier polls collected. Some providers count their own days elsewhere: :data:`PACIFIC`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kedah_analytics.domain import kedah_date_bounds
from kedah_analytics.sources.common.base import FetchTelemetry

# Meta's Page insights and Google's daily quotas count their days in California.
PACIFIC = ZoneInfo("America/Los_Angeles")


def days_in_reach(
    days: Iterable[date],
    telemetry: FetchTelemetry,
    *,
    latest: datetime,
    earliest: datetime | None = None,
    window: str = "",
) -> list[date]:
    """The days (sorted, once each) that overlap ``earliest..latest``; ``window`` names the
    provider's window in the note of a day that ended before ``earliest``."""
    wanted: list[date] = []
    for day in sorted(set(days)):
        start, end = kedah_date_bounds(day)
        if earliest is not None and end <= earliest:
            telemetry.notes.append(
                f"{day}: older than {window} window; no rows fetched "
                "(the raw table keeps what earlier polls collected)"
            )
        elif start >= latest:
            telemetry.notes.append(f"{day}: not started yet in Kedah; nothing to fetch")
        else:
            wanted.append(day)
    return wanted
