"""Meta's usage headers: how much of the Graph API's rate limits a token has used, so that calls slow
down before 100 % and a spent limit defers the source instead of failing it.

``X-App-Usage`` (app level, over a rolling hour) and ``X-Business-Use-Case-Usage`` (per business
object, with ``estimated_time_to_regain_access`` in minutes) carry ``call_count``,
``total_cputime`` and ``total_time`` as percentages of the limit. Above ``slow_from`` % each call
waits in proportion (through the client's injectable sleep); at 100 %, or when Meta names a time to
regain access longer than a run should sleep, the quota is spent until then.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kedah_analytics.sources.common.base import QuotaSpent

USAGE_HEADERS = ("X-App-Usage", "X-Business-Use-Case-Usage", "X-Page-Usage", "X-Ad-Account-Usage")
_SHARES = ("call_count", "total_cputime", "total_time")
# App-level usage is counted over a rolling hour: at 100 % with no regain time named, an hour.
APP_USAGE_WINDOW = timedelta(hours=1)


def _entries(raw: str | None) -> list[dict[str, Any]]:
    """A usage header's entries: the object itself (app usage) or each business object's list."""
    if not raw:
        return []
    try:
        usage = json.loads(raw)
    except ValueError:
        return []
    if not isinstance(usage, dict):
        return []
    if any(k in usage for k in _SHARES):
        return [usage]
    out: list[dict[str, Any]] = []
    for value in usage.values():
        out.extend(v for v in (value if isinstance(value, list) else [value]) if isinstance(v, dict))
    return out


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class GraphUsage:
    """The highest share of any limit a response reported (%), and the longest time to regain
    access Meta named (minutes; None when none)."""

    percent: float
    regain_minutes: float | None = None

    def spent(self, now: datetime) -> QuotaSpent | None:
        """The spent quota this usage means (100 %, or a time to regain access), else None."""
        if self.percent < 100 and not self.regain_minutes:
            return None
        wait = timedelta(minutes=self.regain_minutes) if self.regain_minutes else APP_USAGE_WINDOW
        reset_at = now + wait
        return QuotaSpent(
            f"Graph API usage at {self.percent:.0f}% of its rate limit; access returns at {reset_at.isoformat()}",
            reset_at,
        )


def read_usage(headers: Mapping[str, str]) -> GraphUsage | None:
    """The usage a response's headers report, or None when they report none."""
    shares: list[float] = []
    regains: list[float] = []
    for header in USAGE_HEADERS:
        for entry in _entries(headers.get(header)):
            shares += [n for k in _SHARES if (n := _number(entry.get(k))) is not None]
            regain = _number(entry.get("estimated_time_to_regain_access"))
            if regain:
                regains.append(regain)
    if not shares and not regains:
        return None
    return GraphUsage(max(shares, default=0.0), max(regains) if regains else None)


@dataclass(frozen=True)
class UsagePacing:
    """Above ``slow_from`` %, a call first waits ``full_pause_seconds`` times the share of the way
    from ``slow_from`` to 100 % (at 90 % of 80..100: half of it)."""

    slow_from: float = 80.0
    full_pause_seconds: float = 120.0

    def pause(self, usage: GraphUsage) -> float:
        if usage.percent <= self.slow_from:
            return 0.0
        share = min(1.0, (usage.percent - self.slow_from) / (100.0 - self.slow_from))
        return round(share * self.full_pause_seconds, 1)


def graph_throttle_wait(headers: Mapping[str, str]) -> float | None:
    """Seconds until the Graph API lets us back in, from Retry-After and the usage headers."""
    waits: list[float] = []
    retry_after = headers.get("Retry-After")
    if retry_after:
        try:
            waits.append(float(retry_after))
        except ValueError:
            pass
    usage = read_usage(headers)
    if usage is not None and usage.regain_minutes:
        waits.append(usage.regain_minutes * 60.0)
    return max(waits) if waits else None
