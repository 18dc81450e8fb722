"""The weekly report a tourism board can send on: one self-contained HTML page from the marts.

Headline figures with their change on the previous period, charts (PNG embedded, so the file
opens anywhere and prints to PDF from a browser), top places, top posts and alerts.
"""

from __future__ import annotations

import html
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
import psycopg

from kedah_analytics import charts, queries, status
from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.marts.build import ALL_KEDAH
from kedah_analytics.marts.cities import resolve_city
from kedah_analytics.marts.periods import Period, resolve

HEADLINES = [
    ("posts", "Posts"),
    ("engagement", "Engagement"),
    ("likes", "Likes"),
    ("comments", "Comments"),
    ("shares", "Shares"),
    ("views", "Views"),
    ("positive_share", "Positive"),
    ("sentiment_mean", "Mean sentiment"),
]
DATA_CHOICES = ("auto", "real", "demo")


@dataclass
class Report:
    html: str
    city: str
    period: Period
    data: str  # real | demo: which rows the figures are from
    seconds: float
    sections: dict[str, Any] = field(default_factory=dict)


def _change_text(metric: str, row: pd.Series) -> tuple[str, str]:
    """The change as a person reads it, and a CSS class (up / down / flat)."""
    if metric in ("positive_share", "sentiment_mean"):
        delta = row["change"]
        if pd.isna(delta):
            return "n/a", "flat"
        text = f"{delta * 100:+.1f} pts" if metric == "positive_share" else f"{delta:+.2f}"
        shown = round(delta * 100, 1) if metric == "positive_share" else round(delta, 2)
        if shown == 0:
            return text.replace("-", "+"), "flat"
        return text, "up" if delta > 0 else "down"
    pct = row["change_pct"]
    if pd.isna(pct):
        return ("new" if row["current"] else "n/a"), "flat"
    return f"{pct:+.1f}%", "up" if pct > 0 else "down" if pct < 0 else "flat"


def _value_text(metric: str, value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if metric == "positive_share":
        return f"{value:.0%}"
    if metric == "sentiment_mean":
        return f"{value:+.2f}"
    return charts.compact(value)


def headline_cards(overview: pd.DataFrame) -> list[dict[str, str]]:
    """ "Total likes 3.2K, +12.5% on the previous period" for each headline metric."""
    rows = overview.set_index("metric")
    cards = []
    for metric, label in HEADLINES:
        row = rows.loc[metric]
        change, trend = _change_text(metric, row)
        cards.append({"label": label, "value": _value_text(metric, row["current"]), "change": change, "trend": trend,
                      "previous": _value_text(metric, row["previous"])})  # fmt: skip
    return cards


def _table(frame: pd.DataFrame, columns: dict[str, str], formats: dict[str, Any] | None = None) -> str:
    if frame.empty:
        return '<p class="muted">Nothing in this period.</p>'
    formats = formats or {}
    head = "".join(f"<th>{html.escape(label)}</th>" for label in columns.values())
    body = []
    for _, row in frame.iterrows():
        cells = []
        for column in columns:
            value = row.get(column)
            shown = (
                formats[column](value, row) if column in formats else ("" if pd.isna(value) else str(value))
            )
            cells.append(f"<td>{shown if column in formats else html.escape(shown)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _pct(value: Any, _: Any = None) -> str:
    return "new" if pd.isna(value) else f"{value:+.0f}%"


def _num(value: Any, _: Any = None) -> str:
    return charts.compact(value)


def _post_text(value: Any, row: Any) -> str:
    text = html.escape(" ".join(str(value or "").split())[:160])
    url = row.get("url")
    return (
        f'<a href="{html.escape(str(url))}">{text}</a>'
        if isinstance(url, str) and url.startswith("http")
        else text
    )


def _figure(fig: Any, alt: str) -> str:
    return f'<figure><img alt="{html.escape(alt)}" src="{charts.png_data_uri(fig)}"></figure>'


CSS = """
body { font-family: -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif; color: #1d2a33;
       max-width: 1000px; margin: 2rem auto; padding: 0 1.5rem; }
h1 { margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 2px solid #e9eef2; padding-bottom: .3rem; }
.muted { color: #6b7b86; } .banner { background: #fff3cd; border: 1px solid #e6d08a; padding: .6rem 1rem; }
.cards { display: grid; grid-template-columns: repeat(4, 1fr); gap: .8rem; margin-top: 1.2rem; }
.card { border: 1px solid #e1e7ec; border-radius: 8px; padding: .8rem 1rem; }
.card .label { color: #6b7b86; font-size: .85rem; } .card .value { font-size: 1.7rem; font-weight: 600; }
.card .change { font-size: .9rem; } .up { color: #1f8a70; } .down { color: #c8553d; } .flat { color: #6b7b86; }
figure { margin: 1rem 0; } figure img { max-width: 100%; }
table { border-collapse: collapse; width: 100%; font-size: .88rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid #e9eef2; vertical-align: top; }
pre { white-space: pre-wrap; background: #f6f8fa; padding: .8rem; border-radius: 6px; font-size: .82rem; }
"""


def choose_data(conn: psycopg.Connection, period: Period, data: str) -> str:
    """``auto``: real rows where the period has any, else the demo rows (and the report says so)."""
    if data not in DATA_CHOICES:
        raise ValueError(f"data must be one of {DATA_CHOICES}")
    if data != "auto":
        return data
    return "real" if queries.has_real_rows(conn, period) else "demo"


def require_rows(conn: psycopg.Connection, period: Period, kind: str) -> None:
    """A report of a period the marts hold nothing for is an error naming the days they do hold,
    never a page of zeros."""
    include: queries.IncludeDemo = "only" if kind == "demo" else False
    if queries.days_covered(conn, period, include_demo=include):
        return
    span = status.marts_span(conn)
    held = f"they hold {span['first_day']}..{span['latest_day']}" if span["first_day"] else "they are empty"
    raise ValueError(
        f"the marts hold no {kind} rows for {period.name} ({period.start}..{period.end}); {held}"
    )


def weekly_report(
    conn: psycopg.Connection,
    city: str,
    period: Period | str,
    *,
    data: str = "auto",
    top: int = 10,
    render: bool = True,
) -> Report:
    """The report of ``city`` (or ``All Kedah``) for ``period`` (an ISO week like ``2026-W47``, or
    any period) against the period of the same length before it. ``render=False`` skips the HTML
    page (a notebook shows the figures and tables itself)."""
    started = time.monotonic()
    p = resolve(period)
    city = resolve_city(city)
    kind = choose_data(conn, p, data)
    require_rows(conn, p, kind)
    demo = kind == "demo"
    rows: queries.IncludeDemo = "only" if demo else False  # never demo and real rows together
    scope = None if city == ALL_KEDAH else city
    overview = queries.city_overview(conn, city, p, include_demo=rows)
    daily_now = queries.city_daily(conn, p, city, include_demo=rows)
    daily_before = queries.city_daily(conn, p.previous(), city, include_demo=rows)
    breakdown = queries.platform_breakdown(conn, city, p, include_demo=rows)
    ranking = queries.place_ranking(conn, p, scope, limit=top, include_demo=rows)
    categories = queries.sentiment_by_category(conn, p, city, include_demo=rows)
    posts = queries.top_posts(conn, p, scope, limit=top, include_demo=rows)
    raised = queries.alerts(conn, p, scope, include_demo=rows)
    accounts = queries.account_performance(conn, p, include_demo=rows)

    cards = headline_cards(overview)
    card_html = "".join(
        f'<div class="card"><div class="label">{html.escape(c["label"])}</div><div class="value">{html.escape(c["value"])}</div>'
        f'<div class="change {c["trend"]}">{html.escape(c["change"])} <span class="muted">on the previous period '
        f'({html.escape(c["previous"])})</span></div></div>'
        for c in cards
    )  # fmt: skip
    figures = {
        "engagement": charts.this_and_previous(daily_now, daily_before, "engagement", "Engagement per day"),
        "posts": charts.this_and_previous(daily_now, daily_before, "posts", "Posts per day"),
        "places": charts.top_places(ranking, "engagement", f"Top places by engagement, change on the previous {p.days} days"),
        "platforms": charts.platform_mix(breakdown),
        "sentiment": charts.sentiment_split(categories),
    }  # fmt: skip
    banner = (
        '<p class="banner">These figures are <strong>demo data</strong>: no real posts were collected for this '
        "period. Configure the API credentials (see the README) for real figures.</p>"
        if demo
        else ""
    )
    alerts_html = (
        "".join(f"<pre>{html.escape(m)}</pre>" for m in raised["message"])
        if len(raised)
        else '<p class="muted">No alerts in this period.</p>'
    )
    sections = {
        "overview": overview,
        "ranking": ranking,
        "posts": posts,
        "alerts": raised,
        "accounts": accounts,
        "figures": figures,
    }
    if not render:
        return Report("", city, p, kind, time.monotonic() - started, sections)
    generated = datetime.now(KEDAH_TZ).strftime("%Y-%m-%d %H:%M")
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(city)}: {html.escape(p.name)}</title>
<style>{CSS}</style></head><body>
<h1>{html.escape(city)}: social media report</h1>
<p class="muted">{html.escape(p.name)} ({p.start:%d %b %Y} to {p.end:%d %b %Y}), compared with {
        p.previous().start:%d %b} to
{p.previous().end:%d %b %Y}{
        " (as many days of the period before: this period is still running)" if p.so_far else ""
    }. Generated {generated} (Kedah time) by Kedah Analytics from the warehouse marts.</p>
{banner}
<div class="cards">{card_html}</div>
<h2>Engagement and posts</h2>
{_figure(figures["engagement"], "Engagement per day")}
{_figure(figures["posts"], "Posts per day")}
<h2>Top places</h2>
{_figure(figures["places"], "Top places by engagement")}
{
        _table(
            ranking,
            {
                "rank": "#",
                "place_name": "Place",
                "city": "City",
                "category": "Category",
                "posts": "Posts",
                "engagement": "Engagement",
                "engagement_change_pct": "Change",
                "sentiment_mean": "Sentiment",
                "share_of_voice": "Share of voice",
            },
            {
                "posts": _num,
                "engagement": _num,
                "engagement_change_pct": _pct,
                "sentiment_mean": lambda v, _: "n/a" if pd.isna(v) else f"{v:+.2f}",
                "share_of_voice": lambda v, _: f"{v:.0%}",
            },
        )
    }
<h2>Platforms and sentiment</h2>
{_figure(figures["platforms"], "Platform mix")}
{_figure(figures["sentiment"], "Sentiment by category")}
<h2>Top posts</h2>
{
        _table(
            posts,
            {
                "date": "Day",
                "platform": "Platform",
                "author_name": "Author",
                "place_name": "Place",
                "text": "Post",
                "sentiment_label": "Sentiment",
                "engagement": "Engagement",
            },
            {"text": _post_text, "engagement": _num},
        )
    }
<h2>Our accounts</h2>
{
        _table(
            accounts,
            {
                "platform": "Platform",
                "account_id": "Account",
                "reach": "Reach",
                "views": "Views",
                "follows": "Follows",
                "watch_minutes": "Watch minutes",
                "engagement": "Engagement",
                "views_change_pct": "Views change",
            },
            {
                "reach": _num,
                "views": _num,
                "follows": _num,
                "watch_minutes": _num,
                "engagement": _num,
                "views_change_pct": _pct,
            },
        )
    }
<h2>Alerts</h2>
{alerts_html}
</body></html>
"""
    elapsed = time.monotonic() - started
    return Report(page, city, p, kind, elapsed, sections)
