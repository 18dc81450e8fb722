"""The API's query parameters, parsed by the library's one definition of periods, cities and
platforms; a bad value is a 422 that names the parameter and what it allows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import HTTPException, Query, Request

from kedah_analytics.domain import PLATFORMS
from kedah_analytics.marts.build import ALL_PLATFORMS
from kedah_analytics.marts.cities import resolve_city, valid_cities
from kedah_analytics.marts.periods import PERIOD_HELP, Period
from kedah_analytics.status import DATA_CHOICES

MAX_PARAM = 100  # longer values are refused before anything parses them


def bad_parameter(name: str, message: str, allowed: object) -> HTTPException:
    return HTTPException(
        status_code=422,
        detail=[{"loc": ["query", name], "msg": message, "type": "value_error", "allowed": allowed}],
    )


def city(value: Annotated[str | None, Query(alias="city", description="a city: Langkawi, alor-setar, Alor Star, ...; "
                                             "empty: All Kedah", max_length=MAX_PARAM)] = None) -> str:  # fmt: skip
    try:
        return resolve_city(value)
    except ValueError as err:
        raise bad_parameter("city", str(err), valid_cities()) from err


def period_at(value: str, now: datetime | None = None) -> Period:
    try:
        return Period.parse(value, now)
    except ValueError as err:
        raise bad_parameter("period", str(err), PERIOD_HELP) from err


def period(
    request: Request,
    value: Annotated[str, Query(alias="period", description=PERIOD_HELP, max_length=MAX_PARAM)] = "month",
) -> Period:
    """The period as of the app's clock (``app.state.clock``; tests fix it)."""
    return period_at(value, request.app.state.clock())


def platform(value: Annotated[str | None, Query(alias="platform", description="all (default) or one of "
                                                + ", ".join(PLATFORMS), max_length=MAX_PARAM)] = None) -> str:  # fmt: skip
    name = (value or ALL_PLATFORMS).strip().lower()
    if name != ALL_PLATFORMS and name not in PLATFORMS:
        raise bad_parameter("platform", f"unknown platform {value!r}", [ALL_PLATFORMS, *PLATFORMS])
    return name


def data(value: Annotated[str, Query(alias="data", description="auto (real rows where the period has any, else "
                                     "demo), real, demo or all", max_length=MAX_PARAM)] = "auto") -> str:  # fmt: skip
    if value not in DATA_CHOICES:
        raise bad_parameter("data", f"unknown data choice {value!r}", list(DATA_CHOICES))
    return value


City = Annotated[str, city]
