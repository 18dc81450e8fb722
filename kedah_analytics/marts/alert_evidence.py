"""What explains an alert: the posts behind it, their sentiment against the days before, and the
message a person reads."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
import psycopg

from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.marts.alert_rules import AlertConfig


@dataclass(frozen=True)
class Evidence:
    """The posts behind an alert on its day, and their sentiment against the baseline days'."""

    top_posts: list[dict[str, Any]]
    platforms: dict[str, int]
    sentiment_now: float | None
    sentiment_baseline: float | None


# What each alert shows of a post, in the order the queries below select it.
POST_FIELDS = [
    "platform",
    "post_id",
    "author_name",
    "url",
    "text",
    "engagement",
    "sentiment",
    "sentiment_score",
]
_POSTS = """SELECT c.platform, c.post_id, r.author_name, r.url, left(r.text, 200), c.engagement,
                   c.sentiment_label, round(c.sentiment_score::numeric, 3)::float8
            FROM kedah.classified_posts c JOIN kedah.raw_posts r USING (platform, post_id)
            WHERE c.date = %(day)s AND NOT c.is_spam AND {kind} AND {match}
            ORDER BY {order} LIMIT %(limit)s"""
_MATCH = {
    "place": "c.place_id = %(term)s",
    "topic": "%(term)s = ANY(c.topics)",
    "keyword": "EXISTS (SELECT 1 FROM unnest(c.keywords) k WHERE lower(k) = %(term)s)",
    "hashtag": "EXISTS (SELECT 1 FROM unnest(c.keywords) k WHERE lower(k) = %(term)s)",
}


def evidence(
    conn: psycopg.Connection, day: date, term: str, term_type: str, provider: str, config: AlertConfig
) -> Evidence:
    """Top non-spam posts of ``day`` mentioning the term, its posts per platform, and the mean
    sentiment of its posts on the day and over the baseline days before."""
    match = _MATCH[term_type]  # identifiers and SQL come from code, the term is a parameter
    kind = _provider_kind(provider)
    params = {"term": term, "day": day, "start": day - timedelta(days=config.baseline_days),
              "limit": config.top_posts}  # fmt: skip
    top = _posts(conn, params, kind, match, "c.engagement DESC, c.platform, c.post_id")
    stats = conn.execute(
        f"""SELECT c.date = %(day)s AS today, c.platform, count(*), avg(c.sentiment_score)
            FROM kedah.classified_posts c
            WHERE c.date BETWEEN %(start)s AND %(day)s AND NOT c.is_spam AND {kind} AND {match}
            GROUP BY 1, 2""",  # noqa: S608
        params,
    ).fetchall()
    platforms = {platform: int(n) for today, platform, n, _ in stats if today}

    def mean(today: bool) -> float | None:
        part = [(n, m) for t, _, n, m in stats if t == today]
        total = sum(n for n, _ in part)
        return round(sum(n * float(m) for n, m in part) / total, 4) if total else None

    return Evidence(top, platforms, mean(True), mean(False))


def _provider_kind(provider: str) -> str:
    return "c.provider = 'demo'" if provider == DEMO_PROVIDER else "c.provider <> 'demo'"


def _posts(
    conn: psycopg.Connection, params: dict[str, Any], kind: str, match: str, order: str
) -> list[dict[str, Any]]:
    """Posts of a day as an alert shows them; ``kind``, ``match`` and ``order`` are SQL from this
    module, every value a parameter."""
    rows = conn.execute(_POSTS.format(kind=kind, match=match, order=order), params).fetchall()
    return [dict(zip(POST_FIELDS, row, strict=True)) for row in rows]


def _fmt(value: float | None, signed: bool = False) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _posts_lines(posts: list[dict[str, Any]]) -> list[str]:
    lines = []
    for post in posts:
        who = post.get("author_name") or "unknown author"
        text = " ".join(str(post.get("text") or "").split())[:120]
        url = f" {post['url']}" if post.get("url") else ""
        lines.append(f'  - [{post["platform"]}] {who}: "{text}" (engagement {post["engagement"]}, '
                     f'{post["sentiment"]}){url}')  # fmt: skip
    return lines


def _window(alert: dict[str, Any]) -> str:
    start, end = alert.get("window_start"), alert.get("window_end")
    if start is None or end is None:
        return ""
    return f" between {pd.Timestamp(start):%H:%M} and {pd.Timestamp(end):%H:%M}"


def alert_message(alert: dict[str, Any]) -> str:
    """The alert as text a person reads in a chat channel: what, why, and the posts behind it."""
    where = f", {alert['city']}" if alert.get("city") else ""
    demo = " [demo data]" if alert["provider"] == DEMO_PROVIDER else ""
    platforms = ", ".join(f"{p} {n}" for p, n in sorted(alert["platforms"].items(), key=lambda x: -x[1]))
    shift = (
        f"{_fmt(alert['sentiment_now'])} today against {_fmt(alert['sentiment_baseline'])} over the 28 days before"
        if alert.get("sentiment_now") is not None
        else "n/a"
    )
    change = alert.get("change_pct")
    change_text = "new" if change is None or math.isnan(change) else f"{change:+.0f}%"
    if alert["kind"] == "burst":
        lines = [
            f"Kedah Analytics alert: {alert['subject_type']} '{alert['subject_name']}'{where} is bursting on "
            f"{alert['date']}{demo}.",
            f"- {alert['observed']:.0f} posts{_window(alert)} against {alert['baseline']:.1f} expected from its "
            f"past ({change_text}); burst score {alert['score']:.1f} (-log10 p)",
        ]
    else:
        lines = [
            f"Kedah Analytics alert: sentiment at {alert['subject_name']}{where} dipped on {alert['date']}{demo}.",
            f"- mean sentiment {_fmt(alert['observed'])} over {alert['posts']} posts against "
            f"{_fmt(alert['baseline'])} over the previous days ({_fmt(alert['observed'] - alert['baseline'], True)}, "
            f"z = {alert['score']:.1f})",
        ]
    lines.append(f"- platforms today: {platforms or 'n/a'}")
    lines.append(f"- sentiment of its posts: {shift}")
    if alert["top_posts"]:
        lines.append("- top posts:")
        lines.extend(_posts_lines(alert["top_posts"]))
    return "\n".join(lines)


def worst_first(conn: psycopg.Connection, row: dict[str, Any], config: AlertConfig) -> list[dict[str, Any]]:
    """For a dip, the most engaging negative posts of the day explain it better than the top posts."""
    params = {"day": row["date"], "term": row["place_id"], "limit": config.top_posts}
    order = "c.sentiment_score, c.engagement DESC, c.post_id"
    return _posts(conn, params, _provider_kind(row["provider"]), _MATCH["place"], order)
