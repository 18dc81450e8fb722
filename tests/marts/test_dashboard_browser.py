"""The dashboard in a real headless Chromium: each page loads from the Streamlit server and the
Overview's card shows the figure the query gives."""

from __future__ import annotations

from datetime import date

import pytest
from browser import card, chromium, chromium_missing, dashboard, open_page

from kedah_analytics import queries
from kedah_analytics.charts import compact
from kedah_analytics.dashboard.filters import PAGES
from kedah_analytics.marts.periods import Period

WEEK = "2026-11-16..2026-11-22"

pytestmark = pytest.mark.skipif(bool(chromium_missing()), reason=chromium_missing() or "")


def test_each_page_loads_in_chromium_and_the_overview_card_is_the_query_figure(demo_warehouse):
    with queries.connect(demo_warehouse) as conn:
        figures = queries.city_overview(conn, "Langkawi", Period(date(2026, 11, 16), date(2026, 11, 22)),
                                        include_demo="only")  # fmt: skip
    expected = compact(figures.set_index("metric").loc["posts", "current"])
    with dashboard(demo_warehouse) as address, chromium() as driver:
        headers = {
            page: open_page(driver, address, page=page, city="langkawi", period=WEEK) for page in PAGES
        }
        assert headers["overview"] == "Langkawi: overview" and headers["status"] == "Data status"
        assert headers["accounts"] == "Our accounts" and headers["places"] == "Langkawi: places"
        open_page(driver, address, page="overview", city="langkawi", period=WEEK)
        assert card(driver, "Posts") == expected
        assert "Demo data" in driver.page_source
