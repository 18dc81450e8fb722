"""Periods an analyst asks about (a week, a month, the last 30 days, any range) and the period
they are compared with, which every change is measured against.

The rules, one definition for queries, the report, the notebooks, the API and the dashboard:

- A period is made of complete Kedah days unless the user asks for ``today``: ``week``, ``month``
  and ``year`` are the last 7, 30 and 365 complete days (ending yesterday), ``last30`` the last 30.
- ``2026-W47``, ``2026-11`` and ``a..b`` name their days; one that is still running (it holds
  today) ends yesterday and is "so far", as are ``this-week``, ``this-month`` and ``today``.
- A complete period is compared with the period of the same length just before it; a period so
  far with the same number of days of the period before (this week's Monday and Tuesday with
  last week's Monday and Tuesday, the 1st-10th of November with the 1st-10th of October,
  today with yesterday), never with a whole one.
- A period that has not begun, or a running one without a complete day yet (this week on a
  Monday), is an error that says what to ask for instead, never a period of zeros.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kedah_analytics.domain import KEDAH_TZ

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|to)\s*(\d{4}-\d{2}-\d{2})$")
_LAST = re.compile(r"^last\s*-?(\d+)(?:\s*-?days?)?$", re.IGNORECASE)
# Rolling windows of complete days: the names the seeds' API used for its ``period`` parameter.
WINDOWS = {"week": 7, "month": 30, "year": 365}
PERIOD_HELP = (
    "today, yesterday, week, month, year (the last 7, 30, 365 complete days), this-week, this-month, "
    "last30 (any N), 2026-W47, 2026-11, 2026-11-01..2026-11-15 or 2026-11-20"
)


def kedah_today(now: datetime | None = None) -> date:
    """Today's Kedah date; ``now`` (an aware time) fixes the clock."""
    return (now or datetime.now(KEDAH_TZ)).astimezone(KEDAH_TZ).date()


@dataclass(frozen=True)
class Period:
    """Kedah days ``start`` to ``end``, both included. ``so_far``: the period is still running and
    ends on its last complete day; ``compare_from``: where the period it is compared with starts
    (unset: the same length just before)."""

    start: date
    end: date
    label: str = ""
    so_far: bool = False
    compare_from: date | None = None

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period ends on or after its start: {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """What this period is compared with: the same number of days, just before it, or (a
        period so far) from the start of the period before."""
        if self.compare_from is None:
            end = self.start - timedelta(days=1)
            start = end - timedelta(days=self.days - 1)
        else:
            start = self.compare_from
            end = min(start + timedelta(days=self.days - 1), self.start - timedelta(days=1))
        days = (end - start).days + 1
        return Period(
            start, end, f"the {days} day{'s' if days > 1 else ''} {start}..{end} before {self.name}"
        )

    @property
    def name(self) -> str:
        base = self.label or f"{self.start}..{self.end}"
        return f"{base} (so far)" if self.so_far else base

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @classmethod
    def last(cls, days: int, end: date | None = None) -> Period:
        """The ``days`` days ending on ``end`` (default: yesterday, the last complete Kedah day)."""
        if days < 1:
            raise ValueError("a period has at least one day")
        end = end or kedah_today() - timedelta(days=1)
        return cls(end - timedelta(days=days - 1), end, f"last {days} days to {end}")

    @classmethod
    def week(cls, iso_week: str) -> Period:
        """An ISO week, Monday to Sunday: ``2026-W47``."""
        match = _ISO_WEEK.match(iso_week.strip())
        if not match:
            raise ValueError(f"not an ISO week (like 2026-W47): {iso_week!r}")
        year, week = int(match[1]), int(match[2])
        try:
            start = date.fromisocalendar(year, week, 1)
        except ValueError as err:
            raise ValueError(f"no week {week} in {year}") from err
        return cls(start, start + timedelta(days=6), f"{year}-W{week:02d}")

    @classmethod
    def week_of(cls, day: date) -> Period:
        year, week, _ = day.isocalendar()
        return cls.week(f"{year}-W{week:02d}")

    @classmethod
    def month(cls, month: str) -> Period:
        """A calendar month: ``2026-11``."""
        match = _MONTH.match(month.strip())
        if not match:
            raise ValueError(f"not a month (like 2026-11): {month!r}")
        year, number = int(match[1]), int(match[2])
        if not 1 <= number <= 12:
            raise ValueError(f"no month {number}")
        last = calendar.monthrange(year, number)[1]
        return cls(date(year, number, 1), date(year, number, last), f"{year}-{number:02d}")

    def complete_on(self, today: date, compare_from: date | None = None) -> Period:
        """This period as of ``today``: complete days only. One that holds today ends yesterday and
        is "so far", compared with as many days from ``compare_from`` (the start of the week or
        month before; unset: just before it); one that has not begun, or has no complete day yet,
        is a ValueError."""
        if self.start > today or (self.start == today and self.end >= today):
            began = "began today" if self.start == today else f"begins on {self.start}"
            raise ValueError(
                f"{self.name} {began}: it has no complete Kedah day yet (today is {today}); "
                "ask for today, or for a period that has ended"
            )
        if self.end < today:
            return self
        return Period(
            self.start, today - timedelta(days=1), self.label, so_far=True, compare_from=compare_from
        )

    @classmethod
    def parse(cls, text: str, now: datetime | None = None) -> Period:
        """A period by name, as of ``now`` (default: the clock); see the module's rules."""
        raw = text.strip()
        key = re.sub(r"[\s_]+", "-", raw.lower())
        today = kedah_today(now)
        yesterday = today - timedelta(days=1)
        if key == "today":
            return Period(today, today, f"today {today}", so_far=True, compare_from=yesterday)
        if key == "yesterday":
            return Period(yesterday, yesterday, f"yesterday {yesterday}")
        if key in WINDOWS:
            days = WINDOWS[key]
            return Period(yesterday - timedelta(days=days - 1), yesterday, f"last {days} days to {yesterday}")
        if key in ("this-week", "thisweek"):
            raw = cls.week_of(today).label
        if key in ("this-month", "thismonth"):
            raw = f"{today:%Y-%m}"
        if _ISO_WEEK.match(raw):
            week = cls.week(raw)
            return week.complete_on(today, week.start - timedelta(days=7))
        if _MONTH.match(raw):
            month = cls.month(raw)
            return month.complete_on(today, (month.start - timedelta(days=1)).replace(day=1))
        if match := _RANGE.match(raw):
            return cls(date.fromisoformat(match[1]), date.fromisoformat(match[2])).complete_on(today)
        if match := _LAST.match(raw):
            return cls.last(int(match[1]), end=yesterday)
        try:
            day = date.fromisoformat(raw)
        except ValueError as err:
            raise ValueError(f"not a period: {text!r} (use {PERIOD_HELP})") from err
        if day == today:
            return Period(today, today, f"today {today}", so_far=True, compare_from=yesterday)
        return cls(day, day).complete_on(today)


def resolve(period: Period | str, now: datetime | None = None) -> Period:
    """A :class:`Period` as given, or parsed from its name as of ``now``."""
    return period if isinstance(period, Period) else Period.parse(period, now)
