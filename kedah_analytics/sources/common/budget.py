"""Daily allowances a provider counts against: one counter mechanism for every budget.

X bills post reads per UTC day (``KEDAH_X_DAILY_POST_READS``); YouTube allows 100 ``search.list``
calls per Pacific day. Both are a :class:`DailyCounter` (in memory here, in PostgreSQL in
``kedah_analytics.warehouse.state``) read through a :class:`DailyAllowance` that knows the
provider's day and its limit, so a new quota is one more allowance, not one more counter.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Protocol


class DailyCounter(Protocol):
    """What was spent on a provider's day: an amount (calls, posts read) and the calls it took."""

    def spent(self, day: date) -> int: ...

    def spend(self, day: date, amount: int = 1, calls: int = 1) -> None: ...


class InMemoryDailyCounter:
    """A process-local counter (tests, one-off runs). A deployment uses a persistent one."""

    def __init__(self) -> None:
        self._spent: dict[date, int] = {}
        self._lock = threading.Lock()

    def spent(self, day: date) -> int:
        return self._spent.get(day, 0)

    def spend(self, day: date, amount: int = 1, calls: int = 1) -> None:
        with self._lock:
            self._spent[day] = self._spent.get(day, 0) + amount


@dataclass
class DailyAllowance:
    """``limit`` a day, the day being the provider's own (``zone``: UTC for X, Pacific for Google)."""

    counter: DailyCounter
    limit: int
    zone: tzinfo

    def day(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def left(self, now: datetime) -> int:
        return max(0, self.limit - self.counter.spent(self.day(now)))

    def spend(self, now: datetime, amount: int = 1) -> None:
        self.counter.spend(self.day(now), amount)

    def resets_at(self, now: datetime) -> datetime:
        """When the allowance is whole again: the next midnight of the provider's day (in UTC)."""
        return next_midnight(now, self.zone)


def next_midnight(now: datetime, zone: tzinfo) -> datetime:
    """The next midnight in ``zone`` after ``now``, in UTC."""
    day = now.astimezone(zone).date()
    return datetime.combine(day + timedelta(days=1), time.min, tzinfo=zone).astimezone(UTC)
