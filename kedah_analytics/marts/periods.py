"""Periods an analyst asks about (a week, a month, the last 30 days, any range) and the period
of the same length just before, which every change is measured against."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from kedah_analytics.domain import KEDAH_TZ

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\s*(?:\.\.|/|to)\s*(\d{4}-\d{2}-\d{2})$")


def kedah_today() -> date:
    return datetime.now(KEDAH_TZ).date()


@dataclass(frozen=True)
class Period:
    """Kedah days ``start`` to ``end``, both included."""

    start: date
    end: date
    label: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"a period ends on or after its start: {self.start}..{self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length that ends the day before this one starts."""
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end, f"{self.days} days before {self.name}")

    @property
    def name(self) -> str:
        return self.label or f"{self.start}..{self.end}"

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    @classmethod
    def last(cls, days: int, end: date | None = None) -> Period:
        """The ``days`` days ending on ``end`` (default: today in Kedah)."""
        if days < 1:
            raise ValueError("a period has at least one day")
        end = end or kedah_today()
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

    @classmethod
    def parse(cls, text: str) -> Period:
        """``2026-W47``, ``2026-11``, ``2026-11-01..2026-11-15``, ``last30`` or ``2026-11-20``."""
        text = text.strip()
        if _ISO_WEEK.match(text):
            return cls.week(text)
        if _MONTH.match(text):
            return cls.month(text)
        if match := _RANGE.match(text):
            return cls(date.fromisoformat(match[1]), date.fromisoformat(match[2]))
        if match := re.match(r"^last\s*(\d+)(?:\s*days?)?$", text, re.IGNORECASE):
            return cls.last(int(match[1]))
        try:
            day = date.fromisoformat(text)
        except ValueError as err:
            raise ValueError(
                f"not a period: {text!r} (use 2026-W47, 2026-11, 2026-11-01..2026-11-15 or last30)"
            ) from err
        return cls(day, day)
