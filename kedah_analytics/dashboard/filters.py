"""The sidebar's filters (page, city, period, platform), kept in the URL so a view can be shared."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import streamlit as st

from kedah_analytics.domain import PLATFORMS
from kedah_analytics.marts.build import ALL_PLATFORMS
from kedah_analytics.marts.cities import city_slug, resolve_city, valid_cities
from kedah_analytics.marts.periods import PERIOD_HELP, Period

PAGES = {
    "overview": "Overview",
    "places": "Places",
    "sentiment": "Sentiment",
    "trends": "Trends",
    "accounts": "Our accounts",
    "status": "Data status",
}
PERIODS = ["week", "month", "year", "this-week", "this-month", "today", "last90"]


@dataclass(frozen=True)
class Filters:
    page: str
    city: str
    period_text: str
    platform: str


def _param(name: str, default: str) -> str:
    value = st.query_params.get(name)
    return value if isinstance(value, str) and value.strip() else default


def sidebar() -> Filters:
    """The filters from the URL (defaults: Overview, All Kedah, the last 30 complete days, every
    platform), shown in the sidebar and written back to the URL."""
    page = _param("page", "overview")
    page = page if page in PAGES else "overview"
    try:
        city = resolve_city(_param("city", ""))
    except ValueError as err:
        st.sidebar.error(str(err))
        city = resolve_city(None)
    period_text = _param("period", "month")
    platform = _param("platform", ALL_PLATFORMS).lower()
    platform = platform if platform in (ALL_PLATFORMS, *PLATFORMS) else ALL_PLATFORMS

    st.sidebar.title("Kedah tourism")
    page = st.sidebar.radio("Page", list(PAGES), index=list(PAGES).index(page), format_func=PAGES.__getitem__,
                            key="page")  # fmt: skip
    cities = valid_cities()
    city = st.sidebar.selectbox("City", cities, index=cities.index(city), key="city")
    choices = PERIODS if period_text in PERIODS else [period_text, *PERIODS]
    period_text = st.sidebar.selectbox("Period", choices, index=choices.index(period_text), key="period",
                                       help=PERIOD_HELP, accept_new_options=True)  # fmt: skip
    platforms = [ALL_PLATFORMS, *PLATFORMS]
    platform = st.sidebar.selectbox("Platform", platforms, index=platforms.index(platform), key="platform")
    st.query_params.update(
        {"page": page, "city": city_slug(city), "period": period_text, "platform": platform}
    )
    return Filters(page, city, str(period_text), platform)


def period_of(filters: Filters, now: datetime) -> Period | None:
    """The period the filters name, as of ``now``; None (with the reason shown) when it cannot be."""
    try:
        return Period.parse(filters.period_text, now)
    except ValueError as err:
        st.error(str(err))
        return None
