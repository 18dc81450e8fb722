"""Periods on a fixed clock: complete Kedah days, periods so far against as many days before."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.marts.periods import Period, kedah_today, resolve

MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=KEDAH_TZ)  # ISO week 2026-W48 begins
TUESDAY = datetime(2026, 11, 24, 10, 0, tzinfo=KEDAH_TZ)
FIRST_OF_MONTH = datetime(2026, 12, 1, 9, 30, tzinfo=KEDAH_TZ)
ELEVENTH = datetime(2026, 11, 11, 15, 0, tzinfo=KEDAH_TZ)


def span(period: Period) -> tuple[date, date]:
    return period.start, period.end


def test_week_month_year_are_the_last_complete_days_on_a_monday():
    week = Period.parse("week", MONDAY)
    assert span(week) == (date(2026, 11, 16), date(2026, 11, 22)) and not week.so_far
    # A Monday's weekly change compares a Monday-to-Sunday week with the Monday-to-Sunday before.
    assert span(week.previous()) == (date(2026, 11, 9), date(2026, 11, 15))
    assert span(Period.parse("month", MONDAY)) == (date(2026, 10, 24), date(2026, 11, 22))
    assert Period.parse("year", MONDAY).days == 365 and Period.parse("year", MONDAY).end == date(2026, 11, 22)
    assert span(Period.parse("last30", MONDAY)) == span(Period.parse("month", MONDAY))


def test_the_running_week_on_a_monday_has_no_complete_day_and_says_what_to_ask():
    with pytest.raises(ValueError, match="no complete Kedah day yet.*ask for today"):
        Period.parse("this-week", MONDAY)
    with pytest.raises(ValueError, match="2026-W48 began today"):
        Period.parse("2026-W48", MONDAY)


def test_a_week_so_far_compares_monday_with_monday():
    week = Period.parse("this week", TUESDAY)
    assert span(week) == (date(2026, 11, 23), date(2026, 11, 23)) and week.so_far
    assert week.name == "2026-W48 (so far)"
    before = week.previous()
    assert span(before) == (date(2026, 11, 16), date(2026, 11, 16))
    assert before.start.weekday() == week.start.weekday() == 0
    assert Period.parse("2026-W48", TUESDAY) == week


def test_a_month_so_far_compares_with_as_many_days_of_the_month_before():
    month = Period.parse("this-month", ELEVENTH)
    assert span(month) == (date(2026, 11, 1), date(2026, 11, 10)) and month.so_far
    assert span(month.previous()) == (date(2026, 10, 1), date(2026, 10, 10))
    assert Period.parse("2026-11", ELEVENTH) == month


def test_on_the_first_of_a_month_the_month_before_is_whole_and_this_month_has_not_begun():
    november = Period.parse("2026-11", FIRST_OF_MONTH)
    assert span(november) == (date(2026, 11, 1), date(2026, 11, 30)) and not november.so_far
    assert span(november.previous()) == (date(2026, 10, 2), date(2026, 10, 31))
    with pytest.raises(ValueError, match="no complete Kedah day yet"):
        Period.parse("this-month", FIRST_OF_MONTH)
    assert span(Period.parse("month", FIRST_OF_MONTH)) == (date(2026, 11, 1), date(2026, 11, 30))


def test_midnight_is_kedah_midnight_not_utc():
    just_before = datetime(2026, 11, 22, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Kedah, Sunday
    midnight = datetime(2026, 11, 22, 16, 0, 0, tzinfo=UTC)  # 00:00 Monday in Kedah
    assert kedah_today(just_before) == date(2026, 11, 22)
    assert kedah_today(midnight) == date(2026, 11, 23)
    assert span(Period.parse("week", just_before)) == (date(2026, 11, 15), date(2026, 11, 21))
    assert span(Period.parse("week", midnight)) == (date(2026, 11, 16), date(2026, 11, 22))
    today = Period.parse("today", midnight)
    assert span(today) == (date(2026, 11, 23),) * 2 and today.so_far
    assert span(today.previous()) == (date(2026, 11, 22),) * 2


def test_ranges_that_run_into_today_end_yesterday_and_future_ones_are_refused():
    running = Period.parse("2026-11-20..2026-11-30", TUESDAY)
    assert span(running) == (date(2026, 11, 20), date(2026, 11, 23)) and running.so_far
    assert span(running.previous()) == (date(2026, 11, 16), date(2026, 11, 19))
    with pytest.raises(ValueError, match="begins on 2026-12-01"):
        Period.parse("2026-12", TUESDAY)
    with pytest.raises(ValueError, match="begins on"):
        Period.parse("2026-11-30", TUESDAY)
    assert Period.parse("2026-11-24", TUESDAY).so_far  # a date that is today is today


def test_names_are_forgiving_and_errors_list_the_choices():
    assert Period.parse(" This_Month ", ELEVENTH) == Period.parse("this-month", ELEVENTH)
    assert Period.parse("last 7 days", MONDAY) == Period.parse("week", MONDAY)
    assert resolve(Period.week("2026-W47")) == Period.week("2026-W47")
    with pytest.raises(ValueError, match="use today, yesterday, week, month"):
        Period.parse("fortnight", MONDAY)
