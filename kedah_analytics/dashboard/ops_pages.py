"""Pages about what is happening and what the data is: Trends, Our accounts and Data status."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kedah_analytics.dashboard import data
from kedah_analytics.dashboard.filters import Filters
from kedah_analytics.dashboard.widgets import against_previous, banner, number, pct, period_line
from kedah_analytics.marts.build import ALL_KEDAH, ALL_PLATFORMS
from kedah_analytics.marts.compare import ACCOUNT_MEASURES
from kedah_analytics.marts.periods import Period


def trends(filters: Filters, period: Period) -> None:
    include, kind = data.period_rows(period)
    st.header("Trends")
    day = data.read("latest_prediction_day")
    st.subheader(f"Predicted rising terms{f' for {day:%d %b %Y}' if day else ''}")
    predictions = data.read("trend_predictions", day) if day else pd.DataFrame()
    if predictions.empty:
        st.info("No trend predictions yet: they need 14 days of counts (`make run` seeds 61 days).")
    else:
        st.dataframe(predictions[["rank", "term", "predicted_volume", "score", "confidence", "is_bursting",
                                  "model_version"]].head(20), hide_index=True)  # fmt: skip
    period_line(period, kind)
    banner(kind)
    scope = None if filters.city == ALL_KEDAH else filters.city
    raised = data.read("alerts", period, scope, include_demo=include)
    st.subheader(f"Bursts and alerts ({len(raised)})")
    if raised.empty:
        st.info("No alerts in this period.")
    for _, alert in raised.head(20).iterrows():
        with st.expander(f"{alert['date']}: {alert['kind']} {alert['subject_name']}"):
            st.text(alert["message"])
    st.subheader("Top posts")
    posts = data.read("top_posts", period, scope, limit=10, include_demo=include)
    if posts.empty:
        st.info("No posts in this period.")
    else:
        st.dataframe(posts[["date", "platform", "place_name", "author_name", "engagement", "sentiment_label",
                            "text", "url"]], hide_index=True)  # fmt: skip


def accounts(filters: Filters, period: Period) -> None:
    include, kind = data.period_rows(period)
    st.header("Our accounts")
    period_line(period, kind)
    platform = None if filters.platform == ALL_PLATFORMS else filters.platform
    performance = data.read("account_performance", period, platform, include_demo=include)
    if performance.empty:
        st.info("No account metrics in this period: add your accounts to the tracking file (see the README).")
        return
    banner(kind)
    totals = performance[list(ACCOUNT_MEASURES)].sum(min_count=1)
    before = performance[[f"{m}_previous" for m in ACCOUNT_MEASURES]].sum(min_count=1)
    columns = st.columns(len(ACCOUNT_MEASURES))
    for column, measure in zip(columns, ACCOUNT_MEASURES, strict=True):
        previous = before[f"{measure}_previous"]
        change = (totals[measure] - previous) / previous * 100 if previous and not pd.isna(previous) else None
        column.metric(measure.replace("_", " ").capitalize(), number(totals[measure]),
                      None if performance["change_note"].iloc[0] else pct(change), border=True)  # fmt: skip
    st.dataframe(performance, hide_index=True)
    now = data.read("account_daily", period, platform, include_demo=include)
    earlier = data.read("account_daily", period.previous(), platform, include_demo=include)
    st.subheader("Views per day, against the period before")
    st.line_chart(against_previous(now, earlier, "views"))


def data_status(filters: Filters, period: Period) -> None:
    st.header("Data status")
    collection = pd.DataFrame(data.read("collection_status", data.now()))
    demo = collection["data"].isin(["demo", "mixed"]).any()
    banner("demo" if demo and not collection["data"].isin(["real"]).any() else "real")
    st.subheader("Collection per platform")
    st.dataframe(collection, hide_index=True)
    span = data.read("marts_span")
    st.subheader("Marts")
    st.write(f"Days held: {span['first_day'] or 'none'} to {span['latest_day'] or 'none'}; real rows "
             f"{span['first_real_day'] or 'none'} to {span['latest_real_day'] or 'none'}; last changed "
             f"{span['changed_at'] or 'never'}.")  # fmt: skip
    st.subheader("Trend model")
    training = data.read("training_status")
    if training is None:
        st.info("The trend model has not been trained yet (every Monday at 03:00 Kedah time).")
    else:
        st.write(f"Week of {training['week_start']}: serving {training['serving_version']} "
                 f"({'candidate promoted' if training['promoted'] else 'candidate not promoted'}): {training['reason']}")  # fmt: skip
