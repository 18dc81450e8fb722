"""The board's pages: Overview, Places and Sentiment."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kedah_analytics.dashboard import data
from kedah_analytics.dashboard.filters import Filters
from kedah_analytics.dashboard.widgets import against_previous, banner, number, pct, period_line
from kedah_analytics.marts.build import ALL_KEDAH
from kedah_analytics.marts.periods import Period

CARDS = [("posts", "Posts"), ("engagement", "Engagement"), ("likes", "Likes"), ("comments", "Comments"),
         ("shares", "Shares"), ("views", "Views")]  # fmt: skip


def overview(filters: Filters, period: Period) -> None:
    include, kind = data.period_rows(period)
    st.header(f"{filters.city}: overview")
    period_line(period, kind)
    banner(kind)
    figures = data.read("city_overview", filters.city, period, filters.platform, include_demo=include)
    figures = figures.set_index("metric")
    columns = st.columns(4)
    for i, (metric, label) in enumerate(CARDS):
        columns[i % 4].metric(label, number(figures.loc[metric, "current"]), pct(figures.loc[metric, "change_pct"]),
                              border=True)  # fmt: skip
    share = figures.loc["positive_share"]
    columns[2].metric("Positive", "n/a" if pd.isna(share["current"]) else f"{share['current']:.0%}",
                      None if pd.isna(share["change"]) else f"{share['change'] * 100:+.1f} pts", border=True)  # fmt: skip
    mean = figures.loc["sentiment_mean"]
    columns[3].metric("Mean sentiment", "n/a" if pd.isna(mean["current"]) else f"{mean['current']:+.2f}",
                      None if pd.isna(mean["change"]) else f"{mean['change']:+.2f}", border=True)  # fmt: skip
    if note := figures["change_note"].iloc[0]:
        st.caption(note)
    now = data.read("city_daily", period, filters.city, filters.platform, include_demo=include)
    before = data.read("city_daily", period.previous(), filters.city, filters.platform, include_demo=include)
    st.subheader("Engagement per day, against the period before")
    st.line_chart(against_previous(now, before, "engagement"))
    st.subheader("Platform mix")
    mix = data.read("platform_breakdown", filters.city, period, include_demo=include)
    st.bar_chart(mix.set_index("platform")[["posts", "engagement"]])
    st.dataframe(mix, hide_index=True)


def places(filters: Filters, period: Period) -> None:
    include, kind = data.period_rows(period)
    st.header(f"{filters.city}: places")
    period_line(period, kind)
    banner(kind)
    scope = None if filters.city == ALL_KEDAH else filters.city
    ranking = data.read("place_ranking", period, scope, limit=None, include_demo=include)
    if ranking.empty:
        st.info("No place was talked about in this period.")
        return
    shown = ranking.rename(columns={"place_name": "place", "engagement_change_pct": "trending %",
                                    "sentiment_mean": "sentiment"})  # fmt: skip
    st.dataframe(shown[["rank", "place", "city", "category", "posts", "engagement", "trending %", "sentiment",
                        "share_of_voice"]], hide_index=True)  # fmt: skip
    if note := ranking["change_note"].iloc[0]:
        st.caption(note)
    st.subheader("Map")
    points = ranking.dropna(subset=["lat", "lon"]).assign(
        size=lambda f: 200 + f["engagement"].astype(float) ** 0.5 * 20
    )
    st.map(points, latitude="lat", longitude="lon", size="size")


def sentiment(filters: Filters, period: Period) -> None:
    include, kind = data.period_rows(period)
    st.header(f"{filters.city}: sentiment")
    period_line(period, kind)
    banner(kind)
    daily = data.read("city_daily", period, None, filters.platform, include_demo=include)
    if daily.empty:
        st.info("No posts in this period.")
        return
    by_city = daily.groupby("city")[["posts", "positive", "neutral", "negative"]].sum()
    for label in ("positive", "neutral", "negative"):
        by_city[f"{label} %"] = (by_city[label] / by_city["posts"].where(by_city["posts"] > 0) * 100).round(1)
    st.subheader("By city")
    st.dataframe(by_city.reset_index(), hide_index=True)
    st.subheader("By place category")
    categories = data.read("sentiment_by_category", period, filters.city, include_demo=include)
    st.bar_chart(
        categories.set_index("category")[["positive", "neutral", "negative"]],
        color=["#1f8a70", "#9aa5ad", "#c8553d"],  # the report's colours
    )
    st.dataframe(categories, hide_index=True)
    st.subheader("Mean sentiment per day")
    own = daily[daily["city"] == filters.city]
    st.line_chart(own.groupby("date")["sentiment_mean"].mean())
