"""The dashboard through Streamlit's AppTest: every page with the seeded demo marts and with an
empty warehouse, the filters in the URL, and figures that follow the filters."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from kedah_analytics import queries
from kedah_analytics.charts import compact
from kedah_analytics.dashboard.filters import PAGES
from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.marts.periods import Period

APP = Path(__file__).resolve().parents[2] / "kedah_analytics" / "dashboard" / "app.py"
MONDAY = datetime(2026, 11, 23, 10, 0, tzinfo=KEDAH_TZ)
WEEK = "2026-11-16..2026-11-22"


def render(url: str, **params: str) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.session_state["pg_url"] = url
    at.session_state["now"] = MONDAY
    at.query_params.update(params)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def text_of(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption] + [h.value for h in at.header]
    parts += [w.value for w in at.warning] + [i.value for i in at.info] + [e.value for e in at.error]
    return "\n".join(str(p) for p in parts)


def metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_the_demo_marts_with_a_banner(demo_warehouse, page):
    at = render(demo_warehouse, page=page, period=WEEK)
    assert at.header[0].value
    if page != "accounts":  # no own-account metrics were collected in this warehouse
        assert any("Demo data" in w.value for w in at.warning)
    if page == "overview":
        assert metric(at, "Posts") != "n/a" and len(at.metric) >= 8
    if page == "places":
        assert at.dataframe and len(at.dataframe[0].value) > 0
    if page == "status":
        assert "twitter" in at.dataframe[0].value["platform"].tolist()


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_an_empty_warehouse_and_says_so(empty_warehouse, page):
    at = render(empty_warehouse, page=page, period="month")
    text = text_of(at)
    assert at.header[0].value
    assert any(
        word in text for word in ("No data", "No place", "No posts", "No account", "none", "No trend")
    ), text


def test_the_overview_card_is_the_query_figure_and_the_city_filter_changes_it(demo_warehouse):
    kedah = render(demo_warehouse, page="overview", period=WEEK)
    langkawi = render(demo_warehouse, page="overview", period=WEEK, city="langkawi")

    def posts(city: str) -> str:
        with queries.connect(demo_warehouse) as conn:
            figures = queries.city_overview(conn, city, Period.parse(WEEK, MONDAY), include_demo="only")
        return compact(figures.set_index("metric").loc["posts", "current"])

    assert metric(langkawi, "Posts") == posts("Langkawi") != metric(kedah, "Posts") == posts("All Kedah")
    assert langkawi.selectbox(key="city").value == "Langkawi"
    # a filter changed in the sidebar re-renders the figures and lands in the URL
    langkawi.selectbox(key="city").set_value("Kulim").run()
    assert metric(langkawi, "Posts") == posts("Kulim") != posts("Langkawi")
    assert langkawi.query_params["city"] in ("kulim", ["kulim"])


def test_a_running_week_on_a_monday_is_explained_not_zero(demo_warehouse):
    at = render(demo_warehouse, page="overview", period="this-week")
    assert any("no complete Kedah day yet" in e.value for e in at.error)
    assert not at.metric


def test_an_unknown_city_in_the_url_lists_the_valid_ones(demo_warehouse):
    at = render(demo_warehouse, page="overview", period=WEEK, city="Nowhere")
    assert any("alor-setar" in e.value for e in at.error)
