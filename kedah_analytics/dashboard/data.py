"""What the dashboard reads, cached by the marts' version: a page answers from memory until a mart
changes (or the Kedah day turns, which moves named periods), then reads once more."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from kedah_analytics import queries, status
from kedah_analytics.api.db import ConnectionPool
from kedah_analytics.config.paths import resolve_pg_url
from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.marts.periods import Period, kedah_today

READERS: dict[str, Callable[..., Any]] = {
    "city_overview": queries.city_overview,
    "city_daily": queries.city_daily,
    "platform_breakdown": queries.platform_breakdown,
    "place_ranking": queries.place_ranking,
    "sentiment_by_category": queries.sentiment_by_category,
    "top_posts": queries.top_posts,
    "alerts": queries.alerts,
    "account_performance": queries.account_performance,
    "account_daily": queries.account_daily,
    "trend_predictions": queries.trend_predictions,
    "rows_for": status.rows_for,
    "marts_span": status.marts_span,
    "collection_status": status.collection_status,
    "training_status": status.training_status,
    "latest_prediction_day": status.latest_prediction_day,
}


@st.cache_resource(show_spinner=False)
def _pool(url: str) -> ConnectionPool:
    return ConnectionPool(url, size=4)


def pg_url() -> str:
    """The warehouse: ``pg_url`` in the session (tests), else KEDAH_PG_URL or the embedded server."""
    return str(st.session_state.get("pg_url") or resolve_pg_url())


def now() -> datetime:
    """What time it is: ``now`` in the session fixes the clock (tests), else Kedah's clock."""
    fixed = st.session_state.get("now")
    return fixed if isinstance(fixed, datetime) else datetime.now(KEDAH_TZ)


def version() -> str:
    with _pool(pg_url()).connection() as conn:
        return status.mart_version(conn)


@st.cache_data(show_spinner=False, max_entries=1024, ttl=24 * 3600)
def _cached(url: str, marts: str, today: str, reader: str, args: tuple, kwargs: tuple) -> Any:
    del marts, today  # part of the key only: a new version or a new day reads again
    with _pool(url).connection() as conn:
        return READERS[reader](conn, *args, **dict(kwargs))


def read(reader: str, *args: Any, **kwargs: Any) -> Any:
    """``queries.<reader>`` or ``status.<reader>`` with these arguments, from the cache when the
    marts have not changed since."""
    return _cached(pg_url(), version(), str(kedah_today(now())), reader, args, tuple(sorted(kwargs.items())))


def period_rows(period: Period, data: str = "auto") -> tuple[queries.IncludeDemo, str]:
    include, kind = read("rows_for", period, data)
    return include, kind


def frame(value: Any) -> pd.DataFrame:
    return value if isinstance(value, pd.DataFrame) else pd.DataFrame(value)
