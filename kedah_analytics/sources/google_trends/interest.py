"""Google Trends interest as rows of ``kedah.search_interest``: the requests a run of dates needs,
and which dates came back without data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

import pandas as pd

from kedah_analytics.config.tracking import GoogleTrendsTracking
from kedah_analytics.domain import QuarantinedRecord, SearchInterestRecord
from kedah_analytics.sources.common.base import Exhausted, FetchTelemetry, QuotaSpent
from kedah_analytics.sources.google_trends.client import MAX_DAILY_RANGE_DAYS, SearchInterestResult


class SearchInterestProvider(Protocol):
    """Google Trends (``GoogleTrendsSource``) or its demo stand-in."""

    provider: str
    options: GoogleTrendsTracking

    def fetch_interest(self, start: date, end: date) -> SearchInterestResult: ...


SEARCH_INTEREST_COLUMNS = [
    "date", "keyword", "geo", "interest", "is_partial", "keyword_group", "timeframe", "provider", "fetched_at",
]  # fmt: skip


@dataclass
class SearchInterestOutcome:
    frame: pd.DataFrame
    telemetry: FetchTelemetry
    timeframes: list[str] = field(default_factory=list)
    days_without_data: list[date] = field(default_factory=list)
    # Points Google sent that cannot be a row (no time, an interest outside 0..100), with the reason.
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    # Google kept refusing (429) after the backoff: the windows from there on were not fetched (their
    # days are among days_without_data, so their stored rows stay), and Trends waits until the reset.
    spent: QuotaSpent | None = None


def trends_windows(days: Sequence[date], timeframe_days: int) -> list[tuple[date, date, list[date]]]:
    """The Google Trends requests for ``days``: ``(start, end, days kept)``.

    Contiguous days go in one request (Trends scales 0..100 within a request, so days of one run stay
    comparable), reaching back at least ``timeframe_days`` so a single day is scaled against its
    recent past rather than against itself; a request spans at most the range that still comes back
    daily.
    """
    ordered = sorted(set(days))
    windows: list[tuple[date, date, list[date]]] = []
    chunk: list[date] = []
    for day in ordered:
        if chunk and ((day - chunk[-1]).days != 1 or len(chunk) >= MAX_DAILY_RANGE_DAYS):
            windows.append(_window(chunk, timeframe_days))
            chunk = []
        chunk.append(day)
    if chunk:
        windows.append(_window(chunk, timeframe_days))
    return windows


def _window(chunk: list[date], timeframe_days: int) -> tuple[date, date, list[date]]:
    span = min(MAX_DAILY_RANGE_DAYS, max(len(chunk), timeframe_days))
    return chunk[-1] - timedelta(days=span - 1), chunk[-1], chunk


def search_interest_frame(
    records: Sequence[SearchInterestRecord], days: Sequence[date], fetched_at: datetime
) -> pd.DataFrame:
    wanted = set(days)
    rows = [
        {
            "date": r.date,
            "keyword": r.keyword,
            "geo": r.geo,
            "interest": r.interest,
            "is_partial": r.is_partial,
            "keyword_group": list(r.keyword_group),
            "timeframe": r.timeframe,
            "provider": r.provider,
            "fetched_at": fetched_at,
        }
        for r in records
        if r.date in wanted
    ]
    frame = pd.DataFrame(rows, columns=SEARCH_INTEREST_COLUMNS)
    # A keyword tracked in two groups keeps the first group's value for the day.
    return frame.drop_duplicates(subset=["date", "keyword", "geo"], keep="first").reset_index(drop=True)


def collect_search_interest(
    source: SearchInterestProvider, days: list[date], fetched_at: datetime
) -> SearchInterestOutcome:
    """Daily interest for the tracked keyword groups on ``days`` (see :func:`trends_windows`)."""
    telemetry = FetchTelemetry()
    frames: list[pd.DataFrame] = []
    timeframes: list[str] = []
    quarantined: list[QuarantinedRecord] = []
    spent: QuotaSpent | None = None
    for start, end, kept in trends_windows(days, source.options.timeframe_days):
        try:
            result = source.fetch_interest(start, end)
        except Exhausted as exc:
            # A window is stored whole or not at all: its groups share the days it replaces.
            spent = QuotaSpent(str(exc), exc.reset_at)
            break
        telemetry.merge(result.telemetry)
        quarantined.extend(result.quarantined)
        timeframes.append(f"{start:%Y-%m-%d} {end:%Y-%m-%d}")
        frames.append(search_interest_frame(result.rows, kept, fetched_at))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SEARCH_INTEREST_COLUMNS)
    with_data = set(frame["date"]) if len(frame) else set()
    missing = [d for d in sorted(set(days)) if d not in with_data]
    return SearchInterestOutcome(frame, telemetry, timeframes, missing, quarantined, spent)
