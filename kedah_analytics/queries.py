"""What notebooks call: the warehouse tables as DataFrames, demo rows left out unless asked for."""

from __future__ import annotations

from datetime import date
from typing import Literal

import pandas as pd
import psycopg

from kedah_analytics.config.paths import resolve_pg_url
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.marts.build import ALL_KEDAH, ALL_PLATFORMS, OVERVIEW_COUNTS, pct_change
from kedah_analytics.marts.periods import Period


def connect(url: str | None = None) -> psycopg.Connection:
    """A connection to KEDAH_PG_URL, or to the embedded server (started if needed)."""
    return psycopg.connect(url or resolve_pg_url())


def _frame(conn: psycopg.Connection, query: str, params: tuple) -> pd.DataFrame:
    with conn.cursor() as cur:
        cur.execute(query, params)
        columns = [c.name for c in cur.description or []]
        return pd.DataFrame.from_records(cur.fetchall(), columns=columns)


def place_daily_metrics(
    conn: psycopg.Connection, start: date, end: date, *, include_demo: bool = False
) -> pd.DataFrame:
    """Daily metrics per place and platform between ``start`` and ``end`` (inclusive)."""
    return _frame(
        conn,
        """SELECT * FROM kedah.place_daily_metrics
           WHERE date BETWEEN %s AND %s AND (%s OR provider <> 'demo')
           ORDER BY date, city, place_id, platform""",
        (start, end, include_demo),
    )


def posts(
    conn: psycopg.Connection,
    start: date,
    end: date,
    *,
    include_demo: bool = False,
    include_spam: bool = False,
) -> pd.DataFrame:
    """Posts with their text and classification (the ``kedah.posts`` view)."""
    return _frame(
        conn,
        """SELECT * FROM kedah.posts
           WHERE date BETWEEN %s AND %s AND (%s OR provider <> 'demo') AND (%s OR NOT coalesce(is_spam, false))
           ORDER BY created_at""",
        (start, end, include_demo, include_spam),
    )


def trend_predictions(conn: psycopg.Connection, day: date) -> pd.DataFrame:
    """The day's top rising terms, best first."""
    return _frame(conn, "SELECT * FROM kedah.trend_predictions WHERE date = %s ORDER BY rank", (day,))


# -- marts: any period against the period of the same length before it ------------------------
# ``period`` is a :class:`Period`: ``Period.last(30)``, ``Period.week("2026-W47")``,
# ``Period.month("2026-11")``, ``Period(date(2026, 11, 1), date(2026, 11, 15))``, or the same as a
# string (``"2026-W47"``, ``"last30"``, ``"2026-11-01..2026-11-15"``).


def _period(period: Period | str) -> Period:
    return period if isinstance(period, Period) else Period.parse(period)


# ``include_demo``: False (real rows only, the default), True (real and demo rows), or "only"
# (demo rows only: what a fresh install without credentials has).
IncludeDemo = bool | Literal["only"]


def _providers(include_demo: IncludeDemo) -> list[str]:
    if include_demo == "only":
        return ["demo"]
    return ["real", "demo"] if include_demo else ["real"]


def city_daily(
    conn: psycopg.Connection,
    period: Period | str,
    city: str | None = None,
    platform: str = ALL_PLATFORMS,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Daily overview rows of the period: one city (``"All Kedah"`` for the total) or every city,
    one platform or ``"all"`` (the default)."""
    p = _period(period)
    return _frame(
        conn,
        """SELECT * FROM kedah.city_daily_overview
           WHERE date BETWEEN %s AND %s AND (%s::text IS NULL OR city = %s) AND platform = %s
             AND provider = ANY(%s)
           ORDER BY date, city, provider""",
        (p.start, p.end, city, city, platform, _providers(include_demo)),
    )


def _totals(
    conn: psycopg.Connection, p: Period, city: str, platform: str, include_demo: IncludeDemo
) -> pd.Series:
    frame = city_daily(conn, p, city, platform, include_demo=include_demo)
    return period_totals(frame)


def period_totals(daily: pd.DataFrame) -> pd.Series:
    """Sums of the overview counts over some days, with the sentiment shares and the post-weighted mean."""
    sums = daily[OVERVIEW_COUNTS].sum() if len(daily) else pd.Series(0, index=OVERVIEW_COUNTS)
    sums = sums.astype("float64")
    posts = sums["posts"]
    for label in ("positive", "neutral", "negative"):
        sums[f"{label}_share"] = sums[label] / posts if posts else float("nan")
    weighted = (daily["sentiment_mean"].fillna(0) * daily["posts"]).sum() if len(daily) else 0.0
    sums["sentiment_mean"] = weighted / posts if posts else float("nan")
    return sums


def compare_totals(current: pd.Series, previous: pd.Series) -> pd.DataFrame:
    """``metric, current, previous, change_pct, change``: counts change in percent, shares and the
    mean sentiment in points (``change``, the difference)."""
    out = pd.DataFrame({"current": current, "previous": previous})
    out["change"] = out["current"] - out["previous"]
    out["change_pct"] = [
        pct_change(c, p) if m in OVERVIEW_COUNTS else float("nan")
        for m, c, p in zip(out.index, out["current"], out["previous"], strict=True)
    ]
    return out.rename_axis("metric").reset_index()[["metric", "current", "previous", "change_pct", "change"]]


def city_overview(
    conn: psycopg.Connection,
    city: str = ALL_KEDAH,
    period: Period | str = "last30",
    platform: str = ALL_PLATFORMS,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """A city's headline figures over ``period`` against the period of the same length before it:
    ``city_overview(conn, "Langkawi", Period.last(30))`` is "Langkawi, last 30 days vs the 30 before"."""
    p = _period(period)
    return compare_totals(
        _totals(conn, p, city, platform, include_demo),
        _totals(conn, p.previous(), city, platform, include_demo),
    )


def platform_breakdown(
    conn: psycopg.Connection,
    city: str = ALL_KEDAH,
    period: Period | str = "last30",
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Per platform over the period: posts, engagement, their share of the city's, mean sentiment,
    and the change in posts and engagement against the previous period."""
    p = _period(period)
    rows = []
    for platform in PLATFORMS:
        now = _totals(conn, p, city, platform, include_demo)
        before = _totals(conn, p.previous(), city, platform, include_demo)
        rows.append({"platform": platform, "posts": int(now["posts"]), "engagement": int(now["engagement"]),
                     "likes": int(now["likes"]), "sentiment_mean": now["sentiment_mean"],
                     "posts_change_pct": pct_change(now["posts"], before["posts"]),
                     "engagement_change_pct": pct_change(now["engagement"], before["engagement"])})  # fmt: skip
    out = pd.DataFrame(rows)
    for measure in ("posts", "engagement"):
        total = out[measure].sum()
        out[f"{measure}_share"] = out[measure] / total if total else float("nan")
    return out


def share_of_voice(
    conn: psycopg.Connection, period: Period | str = "last30", *, include_demo: IncludeDemo = False
) -> pd.DataFrame:
    """Each city's share of Kedah's posts and engagement over the period, with the previous period's share."""
    p = _period(period)
    out = []
    for label, span in (("current", p), ("previous", p.previous())):
        frame = city_daily(conn, span, None, ALL_PLATFORMS, include_demo=include_demo)
        frame = frame[frame["city"] != ALL_KEDAH].groupby("city")[["posts", "engagement"]].sum()
        for measure in ("posts", "engagement"):
            total = frame[measure].sum()
            frame[f"{measure}_share"] = frame[measure] / total if total else float("nan")
        out.append(frame.add_suffix("" if label == "current" else "_previous"))
    joined = out[0].join(out[1], how="outer").fillna(0)
    joined["posts_share_change"] = joined["posts_share"] - joined["posts_share_previous"]
    return joined.reset_index().sort_values("posts_share", ascending=False, ignore_index=True)


def place_ranking(
    conn: psycopg.Connection,
    period: Period | str = "last30",
    city: str | None = None,
    *,
    by: str = "engagement",
    limit: int | None = 10,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Places over the period ranked ``by`` engagement or posts, with the change against the
    previous period (the "trending %"), mean sentiment and its change, and share of voice."""
    if by not in ("engagement", "posts"):
        raise ValueError("rank by 'engagement' or 'posts'")
    p = _period(period)
    query = """SELECT place_id, place_name, city, category, sum(posts) AS posts, sum(engagement) AS engagement,
                      sum(sentiment_mean * posts) / nullif(sum(posts), 0) AS sentiment_mean
               FROM kedah.place_rankings
               WHERE date BETWEEN %s AND %s AND provider = ANY(%s) AND (%s::text IS NULL OR city = %s)
               GROUP BY 1, 2, 3, 4"""
    providers = _providers(include_demo)
    now = _frame(conn, query, (p.start, p.end, providers, city, city))
    before = _frame(conn, query, (p.previous().start, p.previous().end, providers, city, city))
    return rank_places(now, before, by=by, limit=limit)


def rank_places(
    now: pd.DataFrame, before: pd.DataFrame, *, by: str = "engagement", limit: int | None = 10
) -> pd.DataFrame:
    """Rank a period's per-place totals against the previous period's (a pure function, tested alone)."""
    if now.empty:
        return pd.DataFrame(columns=["rank", "place_id", "place_name", "city", "category", "posts", "engagement",
                                     f"{by}_change_pct", "sentiment_mean", "sentiment_change", "share_of_voice"])  # fmt: skip
    for frame in (now, before):
        for column in ("posts", "engagement", "sentiment_mean"):
            frame[column] = pd.to_numeric(frame[column], errors="coerce") if len(frame) else frame.get(column)
    previous = (
        before.set_index("place_id")
        if len(before)
        else pd.DataFrame(columns=["posts", "engagement", "sentiment_mean"])
    )
    out = now.copy()
    out["previous"] = out["place_id"].map(previous[by]).fillna(0) if len(previous) else 0
    out[f"{by}_change_pct"] = pct_change(out[by], out["previous"])
    prev_sentiment = out["place_id"].map(previous["sentiment_mean"]) if len(previous) else float("nan")
    out["sentiment_change"] = (out["sentiment_mean"] - prev_sentiment).round(4)
    out["share_of_voice"] = (out["posts"] / out["posts"].sum()).round(4)
    out = out.sort_values(
        [by, "posts" if by == "engagement" else "engagement", "place_id"], ascending=[False, False, True]
    )
    out.insert(0, "rank", range(1, len(out) + 1))
    columns = ["rank", "place_id", "place_name", "city", "category", "posts", "engagement", f"{by}_change_pct",
               "sentiment_mean", "sentiment_change", "share_of_voice"]  # fmt: skip
    out = out[columns].reset_index(drop=True)
    return out.head(limit) if limit else out


def sentiment_by_category(
    conn: psycopg.Connection,
    period: Period | str = "last30",
    city: str = ALL_KEDAH,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Per place category over the period: posts, sentiment counts, shares and the mean."""
    p = _period(period)
    return _frame(
        conn,
        """SELECT category, sum(posts) AS posts, sum(positive) AS positive, sum(neutral) AS neutral,
                  sum(negative) AS negative, sum(positive)::float8 / nullif(sum(posts), 0) AS positive_share,
                  sum(negative)::float8 / nullif(sum(posts), 0) AS negative_share,
                  sum(sentiment_mean * posts) / nullif(sum(posts), 0) AS sentiment_mean
           FROM kedah.sentiment_by_category
           WHERE date BETWEEN %s AND %s AND city = %s AND provider = ANY(%s)
           GROUP BY category ORDER BY sum(posts) DESC, category""",
        (p.start, p.end, city, _providers(include_demo)),
    )


def top_posts(
    conn: psycopg.Connection,
    period: Period | str = "last30",
    city: str | None = None,
    place_id: str | None = None,
    *,
    limit: int = 10,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """The most engaging non-spam posts of the period (each place's daily top posts, merged)."""
    p = _period(period)
    return _frame(
        conn,
        """SELECT date, place_name, city, platform, author_name, text, language, sentiment_label,
                  sentiment_score, likes, comments, shares, views, engagement, url, post_id, provider
           FROM kedah.top_posts
           WHERE date BETWEEN %s AND %s AND provider = ANY(%s) AND (%s::text IS NULL OR city = %s)
             AND (%s::text IS NULL OR place_id = %s)
           ORDER BY engagement DESC, views DESC, date DESC, platform, post_id LIMIT %s""",
        (p.start, p.end, _providers(include_demo), city, city, place_id, place_id, limit),
    )


def top_authors(
    conn: psycopg.Connection, period: Period | str = "last30", city: str | None = None, *, limit: int = 10,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:  # fmt: skip
    """Authors of the period's non-spam posts about Kedah places, by engagement."""
    p = _period(period)
    return _frame(
        conn,
        """SELECT author_name, platform, count(*) AS posts, sum(engagement) AS engagement,
                  avg(sentiment_score) AS sentiment_mean
           FROM kedah.posts
           WHERE date BETWEEN %s AND %s AND NOT coalesce(is_spam, false) AND place_id IS NOT NULL
             AND (CASE WHEN provider = 'demo' THEN 'demo' ELSE 'real' END) = ANY(%s)
             AND (%s::text IS NULL OR city = %s) AND author_name IS NOT NULL
           GROUP BY 1, 2 ORDER BY sum(engagement) DESC, count(*) DESC, author_name LIMIT %s""",
        (p.start, p.end, _providers(include_demo), city, city, limit),
    )


def alerts(
    conn: psycopg.Connection,
    period: Period | str = "last30",
    city: str | None = None,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Alerts raised in the period (a burst or a sentiment dip), newest first, with their message."""
    p = _period(period)
    return _frame(
        conn,
        """SELECT date, kind, subject_name, subject_type, city, observed, baseline, change_pct, score, posts,
                  platforms, sentiment_now, sentiment_baseline, top_posts, message, provider, alert_id
           FROM kedah.alerts
           WHERE date BETWEEN %s AND %s AND provider = ANY(%s) AND (%s::text IS NULL OR city = %s OR city IS NULL)
           ORDER BY date DESC, kind, subject""",
        (p.start, p.end, _providers(include_demo), city, city),
    )


def latest_day(
    conn: psycopg.Connection, table: str = "city_daily_overview", *, include_demo: IncludeDemo = False
) -> date | None:
    """The last day a mart holds rows for (``table`` is one of the marts)."""
    if table not in ("city_daily_overview", "place_rankings", "sentiment_by_category", "top_posts", "alerts"):
        raise ValueError(f"not a mart: {table}")
    row = conn.execute(
        f"SELECT max(date) FROM kedah.{table} WHERE provider = ANY(%s)",  # noqa: S608 (name checked above)
        (_providers(include_demo),),
    ).fetchone()
    return row[0] if row else None


def has_real_rows(conn: psycopg.Connection, period: Period | str) -> bool:
    """Whether the overview holds real (non-demo) rows in the period."""
    p = _period(period)
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM kedah.city_daily_overview WHERE date BETWEEN %s AND %s AND provider = 'real')",
        (p.start, p.end),
    ).fetchone()
    return bool(row and row[0])
