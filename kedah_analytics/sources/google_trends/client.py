"""Google Trends interest in Kedah (geo MY-02) through pytrends, paced and cached.

Google answers 429 after a few quick requests, so keyword-group requests are spaced by a minimum
interval and their results cached. ``TrendReq``'s constructor fetches a cookie from Google, so it
is built only when a request is really needed. pytrends is unmaintained since February 2025.

Interest is scaled 0..100 within one request (one keyword group over one timeframe): values are
comparable inside a group and timeframe only, which is why each row carries both.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any, Protocol

import numpy as np
import pandas as pd
import requests
from pytrends import exceptions as pytrends_errors
from pytrends.request import TrendReq

from kedah_analytics.config.tracking import GoogleTrendsTracking, TrackingConfig
from kedah_analytics.domain import (
    GOOGLE_TRENDS_PROVIDER,
    QuarantinedRecord,
    SearchInterestRecord,
    TrendsKey,
)
from kedah_analytics.sources.common.base import BadRequest, FetchTelemetry, SourceError
from kedah_analytics.sources.common.clock import Clock, Sleep, utcnow
from kedah_analytics.sources.common.parsing import EARLIEST_YEAR, LATEST_YEAR
from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT, RetriesCalls, Retryable, RetryPolicy

PROVIDER = GOOGLE_TRENDS_PROVIDER
PLATFORM = "google_trends"  # the quarantine's platform column for Trends points
MAX_KEYWORDS = 5
MAX_DAILY_RANGE_DAYS = 269  # longer ranges come back weekly


@dataclass
class SearchInterestResult:
    rows: list[SearchInterestRecord]
    telemetry: FetchTelemetry
    provider: str = PROVIDER
    quarantined: list[QuarantinedRecord] = field(default_factory=list)


class TrendsCache(Protocol):
    def get(self, key: TrendsKey, now: datetime) -> list[SearchInterestRecord] | None: ...

    def put(self, key: TrendsKey, rows: list[SearchInterestRecord], fetched_at: datetime) -> None: ...


class InMemoryTrendsCache:
    """A process-local cache with a time to live. A deployment may keep one in Postgres."""

    def __init__(self, ttl: timedelta = timedelta(hours=6)):
        self.ttl = ttl
        self._entries: dict[TrendsKey, tuple[datetime, list[SearchInterestRecord]]] = {}
        self._lock = threading.Lock()

    def get(self, key: TrendsKey, now: datetime) -> list[SearchInterestRecord] | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None or now - entry[0] > self.ttl:
            return None
        return list(entry[1])

    def put(self, key: TrendsKey, rows: list[SearchInterestRecord], fetched_at: datetime) -> None:
        with self._lock:
            self._entries[key] = (fetched_at, list(rows))


class Pacer:
    """Keeps at least ``min_interval`` seconds between requests (across threads of one process)."""

    def __init__(
        self,
        min_interval: float,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Sleep = time.sleep,
    ):
        self.min_interval = min_interval
        self.monotonic = monotonic
        self.sleep = sleep
        self._last: float | None = None
        self._lock = threading.Lock()

    def wait(self) -> float:
        """Sleep until the next request may go; the seconds slept."""
        with self._lock:
            slept = 0.0
            if self._last is not None:
                slept = max(0.0, self._last + self.min_interval - self.monotonic())
                if slept > 0:
                    self.sleep(slept)
            self._last = self.monotonic()
            return slept


# A 429 waits a paced interval, doubling (60, 120, 240 s at the shipped pace), each wait capped;
# still refused, RateLimited defers Google Trends for TRENDS_DEFER (kedah_analytics.deferrals).
TRENDS_ATTEMPTS, TRENDS_MAX_BACKOFF, TRENDS_DEFER = 4, timedelta(minutes=5), timedelta(hours=1)


def daily_timeframe(start: date, end: date) -> str:
    if end < start:
        raise ValueError(f"timeframe ends before it starts: {start}..{end}")
    if (end - start).days + 1 > MAX_DAILY_RANGE_DAYS:
        raise ValueError(f"daily Google Trends data needs a range of at most {MAX_DAILY_RANGE_DAYS} days")
    return f"{start:%Y-%m-%d} {end:%Y-%m-%d}"


class GoogleTrendsSource(RetriesCalls):
    """Daily search interest for the tracked keyword groups.

    ``trendreq_factory`` builds the pytrends client (called lazily, once); the default passes
    ``hl``, ``tz`` and a timeout, and never ``retries``/``backoff_factor`` (TypeError with urllib3 2).
    """

    provider = PROVIDER

    def __init__(
        self,
        tracking: TrackingConfig | GoogleTrendsTracking,
        *,
        trendreq_factory: Callable[[], TrendReq] | None = None,
        cache: TrendsCache | None = None,
        pacer: Pacer | None = None,
        clock: Clock = utcnow,
        sleep: Sleep = time.sleep,
        timeout: tuple[float, float] = DEFAULT_TIMEOUT,
        policy: RetryPolicy | None = None,
    ):
        self.options = tracking.google_trends if isinstance(tracking, TrackingConfig) else tracking
        self._factory = trendreq_factory or (
            lambda: TrendReq(hl=self.options.hl, tz=self.options.tz, timeout=timeout)
        )
        self._trendreq: TrendReq | None = None
        self.cache: TrendsCache = (
            cache
            if cache is not None
            else InMemoryTrendsCache(timedelta(minutes=self.options.cache_ttl_minutes))
        )
        self.pacer = pacer or Pacer(self.options.min_interval_seconds, sleep=sleep)
        self.clock = clock
        self.sleep = sleep
        self.policy = policy or RetryPolicy(
            max_attempts=TRENDS_ATTEMPTS, throttle_wait_seconds=max(1.0, self.options.min_interval_seconds),
            max_wait_seconds=TRENDS_MAX_BACKOFF.total_seconds(), throttle_defer_seconds=TRENDS_DEFER.total_seconds(),
        )  # fmt: skip
        self._lock = threading.Lock()

    def fetch_interest(
        self, start: date, end: date, keyword_groups: Sequence[Sequence[str]] | None = None
    ) -> SearchInterestResult:
        """Daily interest from ``start`` to ``end`` for each keyword group (default: the tracked ones)."""
        timeframe = daily_timeframe(start, end)
        telemetry = FetchTelemetry()
        rows: list[SearchInterestRecord] = []
        quarantined: list[QuarantinedRecord] = []
        for group in keyword_groups if keyword_groups is not None else self.options.keyword_groups:
            rows.extend(self.fetch_group(group, timeframe, telemetry=telemetry, quarantined=quarantined))
        return SearchInterestResult(rows, telemetry, quarantined=quarantined)

    def fetch_group(
        self,
        keywords: Sequence[str],
        timeframe: str,
        *,
        telemetry: FetchTelemetry | None = None,
        quarantined: list[QuarantinedRecord] | None = None,
    ) -> list[SearchInterestRecord]:
        """One request: ``interest_over_time`` for up to five keywords, from the cache when fresh."""
        keywords = tuple(k.strip() for k in keywords if k.strip())
        if not 1 <= len(keywords) <= MAX_KEYWORDS:
            raise ValueError(
                f"a Google Trends request takes 1 to {MAX_KEYWORDS} keywords, not {len(keywords)}"
            )
        telemetry = telemetry if telemetry is not None else FetchTelemetry()
        geo = self.options.geo
        key: TrendsKey = (keywords, timeframe, geo, self.options.tz)
        cached = self.cache.get(key, self.clock())
        if cached is not None:
            telemetry.cache_hits += 1
            return cached

        def attempt() -> Any:
            with self._lock:
                waited = self.pacer.wait()
                if waited:
                    telemetry.notes.append(f"paced {waited:.0f} s before Google Trends request")
                try:
                    trendreq = self._client(telemetry)
                    telemetry.api_calls += 2  # explore (tokens) + multiline (interest over time)
                    trendreq.build_payload(list(keywords), timeframe=timeframe, geo=geo)
                    frame = trendreq.interest_over_time()
                except pytrends_errors.TooManyRequestsError:
                    raise Retryable("HTTP 429 from Google Trends", throttled=True) from None
                except pytrends_errors.ResponseError as exc:
                    status = getattr(exc.response, "status_code", 0)
                    if status >= 500:
                        raise Retryable(f"HTTP {status} from Google Trends") from None
                    if status == 200:
                        # pytrends refuses a 200 that is not JSON: an HTML error or consent page.
                        raise Retryable(
                            "Google Trends answered HTTP 200 with a body that is not JSON"
                        ) from None
                    if status == 400:
                        raise BadRequest(
                            f"Google Trends rejected {list(keywords)} / {timeframe!r} (HTTP 400)"
                        ) from None
                    raise SourceError(f"Google Trends answered HTTP {status} for {list(keywords)}") from None
                except (requests.Timeout, requests.ConnectionError) as exc:
                    raise Retryable(f"{type(exc).__name__} talking to Google Trends") from None
                except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
                    # An HTML page, an empty body or a reshaped JSON with HTTP 200: the whole answer
                    # is unusable, and a later request may well be fine.
                    raise Retryable(
                        f"Google Trends answered something pytrends could not read for {list(keywords)}: "
                        f"{type(exc).__name__}: {str(exc)[:200]}"
                    ) from None
            telemetry.pages += 1
            return frame

        frame = self.retried(attempt, "Google Trends interest_over_time", telemetry)
        rows = self._rows(frame, keywords, timeframe, geo, quarantined)
        if not rows:
            telemetry.notes.append(
                f"Google Trends has no data for {list(keywords)} in {geo} over {timeframe}"
            )
        self.cache.put(key, rows, self.clock())
        return rows

    def _client(self, telemetry: FetchTelemetry) -> TrendReq:
        if self._trendreq is None:
            telemetry.api_calls += 1  # the cookie request TrendReq makes when built
            self._trendreq = self._factory()
        return self._trendreq

    def _rows(
        self,
        frame: Any,
        keywords: tuple[str, ...],
        timeframe: str,
        geo: str,
        quarantined: list[QuarantinedRecord] | None = None,
    ) -> list[SearchInterestRecord]:
        return interest_rows(
            frame, keywords, timeframe, geo, self.options.tz, quarantined if quarantined is not None else []
        )


def point_day(stamp: datetime, tz_minutes: int) -> date:
    """The day a daily Trends point stands for.

    pytrends gives each point's ``time`` as a UTC-naive timestamp. Google stamps a daily point at
    midnight UTC of the day it reports (the day in the requested tz); some answers stamp it at the
    tz's own midnight instead. A UTC midnight is therefore read as that UTC date, anything else in
    the requested tz: right east and west of UTC (reading a UTC midnight in a west-of-UTC tz would
    file every value a day early).
    """
    if stamp.hour == stamp.minute == stamp.second == stamp.microsecond == 0:
        return stamp.date()
    return stamp.replace(tzinfo=UTC).astimezone(timezone(timedelta(minutes=-tz_minutes))).date()


def _interest(value: Any) -> int:
    """An interest value 0..100; raises ValueError otherwise (NaN, strings, out of range)."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"interest is not a number: {value!r:.40}")
    if not math.isfinite(float(value)) or float(value) != int(value):
        raise ValueError(f"interest is not a whole number: {value!r:.40}")
    if not 0 <= int(value) <= 100:
        raise ValueError(f"interest is outside 0..100: {int(value)}")
    return int(value)


def interest_rows(
    frame: Any,
    keywords: tuple[str, ...],
    timeframe: str,
    geo: str,
    tz_minutes: int,
    quarantined: list[QuarantinedRecord],
) -> list[SearchInterestRecord]:
    """``interest_over_time()``'s frame as daily rows. A point without a time, or a value that is not
    an interest of 0..100, is quarantined and its neighbours kept. Sub-daily or weekly answers are
    refused with the reason (they would otherwise be stored as if they were days)."""
    if frame is None or len(frame) == 0:
        return []
    missing = [k for k in keywords if k not in frame.columns]
    if missing:
        raise SourceError(f"Google Trends response lacks columns for {missing}")

    # Plain lists once: reading a frame cell by cell (.iloc) costs ten times more.
    columns = {k: frame[k].tolist() for k in keywords}
    partial = frame["isPartial"].tolist() if "isPartial" in frame.columns else None
    index = list(frame.index)

    def bad_point(reason: str, position: int) -> None:
        raw = {k: _plain(columns[k][position]) for k in keywords}
        quarantined.append(
            QuarantinedRecord(
                PLATFORM,
                PROVIDER,
                f"Google Trends {list(keywords)} {timeframe}: {reason}",
                {"index": _plain(index[position]), "values": raw, "timeframe": timeframe, "geo": geo},
            )
        )

    stamps: list[tuple[int, datetime]] = []
    for position, ts in enumerate(index):
        if ts is None or pd.isna(ts) or not hasattr(ts, "to_pydatetime"):
            bad_point("point without a time", position)
            continue
        stamp = ts.to_pydatetime()
        if not EARLIEST_YEAR <= stamp.year <= LATEST_YEAR:
            bad_point(f"point time outside {EARLIEST_YEAR}..{LATEST_YEAR}: {stamp.isoformat()}", position)
            continue
        stamps.append((position, stamp))
    ordered = sorted(stamp for _, stamp in stamps)
    gaps = [b - a for a, b in zip(ordered, ordered[1:], strict=False)]
    if gaps and min(gaps) < timedelta(days=1):
        raise BadRequest(
            f"Google Trends returned sub-daily points for {timeframe!r}; ask for a date range of at most "
            f"{MAX_DAILY_RANGE_DAYS} days"
        )
    if gaps and min(gaps) >= timedelta(days=7):
        raise BadRequest(
            f"Google Trends answered weekly points for {timeframe!r} (one every {min(gaps).days} days); "
            "they are not stored as days. Daily points need a range of at most "
            f"{MAX_DAILY_RANGE_DAYS} days"
        )
    rows = []
    for position, stamp in stamps:
        day = point_day(stamp, tz_minutes)
        is_partial = partial is not None and _truthy(partial[position])
        for keyword in keywords:
            try:
                interest = _interest(columns[keyword][position])
            except ValueError as exc:
                bad_point(f"{keyword} on {day}: {exc}", position)
                continue
            rows.append(
                SearchInterestRecord(
                    date=day,
                    keyword=keyword,
                    interest=interest,
                    is_partial=is_partial,
                    geo=geo,
                    timeframe=timeframe,
                    keyword_group=keywords,
                )
            )
    return rows


def _truthy(value: Any) -> bool:
    try:
        return bool(value) and not pd.isna(value)
    except (TypeError, ValueError):
        return False


def _plain(value: Any) -> Any:
    """A frame value as JSON can hold it (for the quarantine payload)."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, int | float | str | bool):
        return value
    return str(value)
