"""The dashboard's entry script: ``streamlit run kedah_analytics/dashboard/app.py`` (or
``kedah-analytics dashboard --port N``). It needs the warehouse only, not the Dagster webserver."""

from __future__ import annotations

import streamlit as st

from kedah_analytics.dashboard import board_pages, data, ops_pages
from kedah_analytics.dashboard.filters import PAGES, period_of, sidebar

RENDER = {
    "overview": board_pages.overview,
    "places": board_pages.places,
    "sentiment": board_pages.sentiment,
    "trends": ops_pages.trends,
    "accounts": ops_pages.accounts,
    "status": ops_pages.data_status,
}


def main() -> None:
    st.set_page_config(page_title="Kedah tourism", page_icon="🌴", layout="wide")
    filters = sidebar()
    period = period_of(filters, data.now())
    if period is None:
        return
    try:
        RENDER[filters.page](filters, period)
    except ValueError as err:  # a filter the library refuses: say why, never a page of zeros
        st.error(str(err))
    st.sidebar.caption(f"{PAGES[filters.page]} · figures cached until the marts change")


main()
