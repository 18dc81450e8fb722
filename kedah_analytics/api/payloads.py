"""The API's answers, built from ``kedah_analytics.queries`` and ``kedah_analytics.status`` (no SQL
here), with the seeds' field names and what every answer holds: ``data`` and the exact days."""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from kedah_analytics import queries, status
from kedah_analytics.marts.build import ALL_KEDAH
from kedah_analytics.marts.cities import city_slug
from kedah_analytics.marts.periods import Period

TOTALS = ("posts", "likes", "comments", "shares", "views", "engagement")


def plain(value: Any) -> Any:
    """A value JSON can hold: NaN and NA as null, numpy scalars as Python, dates in ISO form."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [plain(v) for v in value]
    return value


def records(frame: pd.DataFrame, columns: list[str] | None = None) -> list[dict[str, Any]]:
    picked = frame[columns] if columns else frame
    return [{k: plain(v) for k, v in row.items()} for row in picked.to_dict("records")]


def describe_period(p: Period) -> dict[str, Any]:
    before = p.previous()
    return {"name": p.name, "first_day": p.start.isoformat(), "last_day": p.end.isoformat(), "days": p.days,
            "so_far": p.so_far, "compared_with": {"first_day": before.start.isoformat(),
                                                  "last_day": before.end.isoformat(), "days": before.days}}  # fmt: skip


def _envelope(p: Period, kind: str, city: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"data": kind, "period": describe_period(p)}
    if city is not None:
        out["city"] = city
        out["city_slug"] = city_slug(city)
    return out


def _daily_sums(frame: pd.DataFrame) -> pd.DataFrame:
    columns = ["date", *TOTALS, "positive", "neutral", "negative"]
    if frame.empty:
        return pd.DataFrame(columns=columns)
    sums = frame.groupby("date")[columns[1:]].sum()
    weighted = (
        (frame["sentiment_mean"].astype("float64").fillna(0) * frame["posts"]).groupby(frame["date"]).sum()
    )
    sums["sentiment_mean"] = (weighted / sums["posts"].where(sums["posts"] > 0)).round(4)
    return sums.reset_index()


def overview(conn: psycopg.Connection, city: str, p: Period, platform: str, data: str) -> dict[str, Any]:
    include, kind = status.rows_for(conn, p, data)
    figures = queries.city_overview(conn, city, p, platform, include_demo=include).set_index("metric")
    out = _envelope(p, kind, city)
    out["platform"] = platform
    for name in TOTALS:
        out[f"total_{name}"] = plain(figures.loc[name, "current"])
    out["previous"] = {f"total_{n}": plain(figures.loc[n, "previous"]) for n in TOTALS}
    out["change_pct"] = {f"total_{n}": plain(figures.loc[n, "change_pct"]) for n in TOTALS}
    out["change_note"] = plain(figures["change_note"].iloc[0])
    breakdown = queries.platform_breakdown(conn, city, p, include_demo=include)
    out["platforms"] = records(breakdown, ["platform", "posts", "likes", "comments", "shares", "views",
                                           "engagement", "posts_change_pct", "engagement_change_pct"])  # fmt: skip
    positive, neutral, negative = (
        plain(figures.loc[n, "current"]) for n in ("positive", "neutral", "negative")
    )
    share = figures.loc["positive_share", "current"]
    out["sentiment"] = {"positive": positive, "neutral": neutral, "negative": negative,
                        "positive_pct": None if pd.isna(share) else round(float(share) * 100, 2),
                        "mean": plain(figures.loc["sentiment_mean", "current"])}  # fmt: skip
    out["daily"] = records(_daily_sums(queries.city_daily(conn, p, city, platform, include_demo=include)))
    before = queries.city_daily(conn, p.previous(), city, platform, include_demo=include)
    out["previous_daily"] = records(_daily_sums(before))
    return out


def popular_places(
    conn: psycopg.Connection, city: str, p: Period, by: str, limit: int, data: str
) -> dict[str, Any]:
    include, kind = status.rows_for(conn, p, data)
    ranking = queries.place_ranking(conn, p, city, by=by, limit=limit, include_demo=include)
    ranking = ranking.rename(columns={"place_name": "name", f"{by}_change_pct": "trending",
                                      "sentiment_mean": "sentiment"})  # fmt: skip
    out = _envelope(p, kind, city)
    out["by"] = by
    out["places"] = records(ranking, ["rank", "place_id", "name", "city", "category", "lat", "lon", "posts",
                                      "engagement", "trending", "sentiment", "sentiment_change",
                                      "share_of_voice", "change_note"])  # fmt: skip
    for place in out["places"]:
        place["trending_pct"] = place["trending"]
    return out


def sentiment_summary(conn: psycopg.Connection, city: str, p: Period, data: str) -> dict[str, Any]:
    include, kind = status.rows_for(conn, p, data)
    figures = queries.city_overview(conn, city, p, include_demo=include).set_index("metric")
    counts = {n: plain(figures.loc[n, "current"]) for n in ("positive", "neutral", "negative")}
    total = sum(v or 0 for v in counts.values())
    out = _envelope(p, kind, city)
    out["distribution"] = {**counts, "total": total,
                           **{f"{n}_pct": round(v / total * 100, 2) if total else None for n, v in counts.items()},
                           "mean": plain(figures.loc["sentiment_mean", "current"])}  # fmt: skip
    out["by_category"] = records(queries.sentiment_by_category(conn, p, city, include_demo=include))
    return out


def alerts(conn: psycopg.Connection, city: str, p: Period, data: str) -> dict[str, Any]:
    include, kind = status.rows_for(conn, p, data)
    raised = queries.alerts(conn, p, None if city == ALL_KEDAH else city, include_demo=include)
    out = _envelope(p, kind, city)
    out["alerts"] = records(raised)
    return out


def accounts(conn: psycopg.Connection, p: Period, platform: str, data: str) -> dict[str, Any]:
    include, kind = status.rows_for(conn, p, data)
    out = _envelope(p, kind)
    out["platform"] = platform
    out["accounts"] = records(queries.account_performance(conn, p, platform, include_demo=include))
    out["daily"] = records(queries.account_daily(conn, p, platform, include_demo=include))
    return out


def places_geojson(conn: psycopg.Connection, city: str, p: Period, data: str) -> dict[str, Any]:
    include, kind = status.rows_for(conn, p, data)
    ranking = queries.place_ranking(conn, p, city, limit=None, include_demo=include)
    features = [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
         "properties": {k: row[k] for k in ("place_id", "place_name", "city", "category", "posts", "engagement",
                                            "engagement_change_pct", "sentiment_mean", "share_of_voice")}}
        for row in records(ranking) if row["lat"] is not None
    ]  # fmt: skip
    return {"type": "FeatureCollection", "features": features, **_envelope(p, kind, city)}
