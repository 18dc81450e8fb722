"""What notebooks call: the warehouse tables as DataFrames, demo rows left out unless asked for."""

from __future__ import annotations

from datetime import date

import pandas as pd
import psycopg

from kedah_analytics.config.paths import resolve_pg_url
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.marts import compare
from kedah_analytics.marts.build import ALL_KEDAH, ALL_PLATFORMS, pct_change
from kedah_analytics.marts.build import OVERVIEW_COUNTS as OVERVIEW_COUNTS  # re-exported for notebooks
from kedah_analytics.marts.cities import resolve_city
from kedah_analytics.marts.compare import compare_totals, coverage_note, period_totals, rank_places
from kedah_analytics.marts.periods import Period, resolve
from kedah_analytics.status import IncludeDemo as IncludeDemo
from kedah_analytics.status import days_covered, has_real_rows, latest_day, providers  # noqa: F401 (for notebooks)


def connect(url: str | None = None) -> psycopg.Connection:
    """A connection to KEDAH_PG_URL, or to the embedded server (started if needed)."""
    return psycopg.connect(url or resolve_pg_url())


def _frame(conn: psycopg.Connection, query: str, params: tuple | dict[str, object]) -> pd.DataFrame:
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
# ``Period.month("2026-11")``, ``Period(date(2026, 11, 1), date(2026, 11, 15))``, or a name parsed
# by the rules of ``kedah_analytics.marts.periods`` (``"month"``, ``"this-week"``, ``"2026-W47"``,
# ``"last30"``, ``"2026-11-01..2026-11-15"``): complete Kedah days unless you ask for ``"today"``.
# ``city`` is any spelling ``kedah_analytics.marts.cities`` knows (``"langkawi"``, ``"alor-setar"``,
# ``"Alor Star"``); an unknown city is a ValueError listing the valid ones.


def _period(period: Period | str) -> Period:
    return resolve(period)


def _select(
    conn: psycopg.Connection, query: str, period: Period | str, include_demo: IncludeDemo, **params: object
) -> pd.DataFrame:
    """``query`` over the days of ``period``: it names them ``%(start)s`` and ``%(end)s``, the provider
    kinds ``include_demo`` lets in ``%(providers)s``, and any of ``params`` by their keyword."""
    p = _period(period)
    return _frame(
        conn, query, {"start": p.start, "end": p.end, "providers": providers(include_demo), **params}
    )


def _city(city: str | None) -> str:
    """A city as the marts store it; ``None`` or ``All Kedah`` is ``All Kedah``."""
    return resolve_city(city)


def _scope(city: str | None) -> str | None:
    """A city filter over per-place rows: ``None`` for the whole state."""
    found = resolve_city(city)
    return None if found == ALL_KEDAH else found


def _platform(platform: str | None) -> str:
    value = (platform or ALL_PLATFORMS).strip().lower()
    if value != ALL_PLATFORMS and value not in PLATFORMS:
        raise ValueError(
            f"unknown platform {platform!r}: use one of {', '.join((ALL_PLATFORMS, *PLATFORMS))}"
        )
    return value


def city_daily(
    conn: psycopg.Connection,
    period: Period | str,
    city: str | None = None,
    platform: str = ALL_PLATFORMS,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Daily overview rows of the period: one city (``"All Kedah"`` for the total) or every city
    (``None``), one platform or ``"all"`` (the default)."""
    return _select(
        conn,
        """SELECT * FROM kedah.city_daily_overview
           WHERE date BETWEEN %(start)s AND %(end)s AND (%(city)s::text IS NULL OR city = %(city)s)
             AND platform = %(platform)s AND provider = ANY(%(providers)s)
           ORDER BY date, city, provider""",
        period,
        include_demo,
        city=None if city is None else _city(city),
        platform=_platform(platform),
    )


def _previous_note(
    conn: psycopg.Connection, p: Period, include_demo: IncludeDemo, accounts: bool = False
) -> str | None:
    before = p.previous()
    return coverage_note(
        days_covered(conn, before, include_demo=include_demo, accounts=accounts), before.days
    )


def _totals(
    conn: psycopg.Connection, p: Period, city: str, platform: str, include_demo: IncludeDemo
) -> pd.Series:
    return period_totals(city_daily(conn, p, city, platform, include_demo=include_demo))


def city_overview(
    conn: psycopg.Connection,
    city: str = ALL_KEDAH,
    period: Period | str = "month",
    platform: str = ALL_PLATFORMS,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """A city's headline figures over ``period`` against the period it is compared with:
    ``city_overview(conn, "Langkawi", "month")`` is "Langkawi, the last 30 complete days vs the 30
    before"; ``change_note`` says why the changes are empty when the days before are not all stored."""
    p = _period(period)
    return compare_totals(
        _totals(conn, p, _city(city), platform, include_demo),
        _totals(conn, p.previous(), _city(city), platform, include_demo),
        _previous_note(conn, p, include_demo),
    )


def platform_breakdown(
    conn: psycopg.Connection,
    city: str = ALL_KEDAH,
    period: Period | str = "month",
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Per platform over the period: posts, engagement, their share of the city's, mean sentiment,
    and the change in posts and engagement against the previous period."""
    p = _period(period)
    note = _previous_note(conn, p, include_demo)
    query = """SELECT * FROM kedah.city_daily_overview
               WHERE date BETWEEN %(start)s AND %(end)s AND city = %(city)s AND platform <> 'all'
                 AND provider = ANY(%(providers)s)"""
    spans = [_select(conn, query, span, include_demo, city=_city(city)) for span in (p, p.previous())]
    rows = []
    groups = [dict(tuple(f.groupby("platform"))) if len(f) else {} for f in spans]
    for platform in PLATFORMS:
        now, before = (period_totals(g.get(platform, spans[0].iloc[0:0])) for g in groups)
        rows.append({"platform": platform, "posts": int(now["posts"]), "engagement": int(now["engagement"]),
                     "likes": int(now["likes"]), "comments": int(now["comments"]), "shares": int(now["shares"]),
                     "views": int(now["views"]), "sentiment_mean": now["sentiment_mean"],
                     "posts_change_pct": float("nan") if note else pct_change(now["posts"], before["posts"]),
                     "engagement_change_pct": float("nan") if note else pct_change(now["engagement"], before["engagement"])})  # fmt: skip
    out = pd.DataFrame(rows)
    for measure in ("posts", "engagement"):
        total = out[measure].sum()
        out[f"{measure}_share"] = out[measure] / total if total else float("nan")
    return out


def share_of_voice(
    conn: psycopg.Connection, period: Period | str = "month", *, include_demo: IncludeDemo = False
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
    period: Period | str = "month",
    city: str | None = None,
    *,
    by: str = "engagement",
    limit: int | None = 10,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Places over the period ranked ``by`` engagement or posts, with the change against the
    previous period (the "trending %", NaN with a ``change_note`` when the days before are not
    all stored), mean sentiment and its change, share of voice, and coordinates for a map."""
    if by not in ("engagement", "posts"):
        raise ValueError("rank by 'engagement' or 'posts'")
    p = _period(period)
    query = """SELECT r.place_id, r.place_name, r.city, r.category, sum(r.posts) AS posts,
                      sum(r.engagement) AS engagement,
                      sum(r.sentiment_mean * r.posts) / nullif(sum(r.posts), 0) AS sentiment_mean
               FROM kedah.place_rankings r
               WHERE r.date BETWEEN %(start)s AND %(end)s AND r.provider = ANY(%(providers)s)
                 AND (%(city)s::text IS NULL OR r.city = %(city)s)
               GROUP BY 1, 2, 3, 4"""
    now, before = (_select(conn, query, span, include_demo, city=_scope(city)) for span in (p, p.previous()))
    ranked = rank_places(now, before, by=by, limit=limit, note=_previous_note(conn, p, include_demo))
    where = _frame(conn, "SELECT place_id, lat, lon FROM kedah.places", ())
    return ranked.merge(where, on="place_id", how="left") if len(where) else ranked.assign(lat=None, lon=None)


def sentiment_by_category(
    conn: psycopg.Connection,
    period: Period | str = "month",
    city: str = ALL_KEDAH,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Per place category over the period: posts, sentiment counts, shares and the mean."""
    return _select(
        conn,
        """SELECT category, sum(posts) AS posts, sum(positive) AS positive, sum(neutral) AS neutral,
                  sum(negative) AS negative, sum(positive)::float8 / nullif(sum(posts), 0) AS positive_share,
                  sum(negative)::float8 / nullif(sum(posts), 0) AS negative_share,
                  sum(sentiment_mean * posts) / nullif(sum(posts), 0) AS sentiment_mean
           FROM kedah.sentiment_by_category
           WHERE date BETWEEN %(start)s AND %(end)s AND city = %(city)s AND provider = ANY(%(providers)s)
           GROUP BY category ORDER BY sum(posts) DESC, category""",
        period,
        include_demo,
        city=_city(city),
    )


def top_posts(
    conn: psycopg.Connection,
    period: Period | str = "month",
    city: str | None = None,
    place_id: str | None = None,
    *,
    limit: int = 10,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """The most engaging non-spam posts of the period (each place's daily top posts, merged)."""
    return _select(
        conn,
        """SELECT date, place_name, city, platform, author_name, text, language, sentiment_label,
                  sentiment_score, likes, comments, shares, views, engagement, url, post_id, provider
           FROM kedah.top_posts
           WHERE date BETWEEN %(start)s AND %(end)s AND provider = ANY(%(providers)s)
             AND (%(city)s::text IS NULL OR city = %(city)s)
             AND (%(place_id)s::text IS NULL OR place_id = %(place_id)s)
           ORDER BY engagement DESC, views DESC, date DESC, platform, post_id LIMIT %(limit)s""",
        period,
        include_demo,
        city=_scope(city),
        place_id=place_id,
        limit=limit,
    )


def top_authors(
    conn: psycopg.Connection, period: Period | str = "month", city: str | None = None, *, limit: int = 10,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:  # fmt: skip
    """Authors of the period's non-spam posts about Kedah places, by engagement."""
    return _select(
        conn,
        """SELECT author_name, platform, count(*) AS posts, sum(engagement) AS engagement,
                  avg(sentiment_score) AS sentiment_mean
           FROM kedah.posts
           WHERE date BETWEEN %(start)s AND %(end)s AND NOT coalesce(is_spam, false) AND place_id IS NOT NULL
             AND (CASE WHEN provider = 'demo' THEN 'demo' ELSE 'real' END) = ANY(%(providers)s)
             AND (%(city)s::text IS NULL OR city = %(city)s) AND author_name IS NOT NULL
           GROUP BY 1, 2 ORDER BY sum(engagement) DESC, count(*) DESC, author_name LIMIT %(limit)s""",
        period,
        include_demo,
        city=_scope(city),
        limit=limit,
    )


def alerts(
    conn: psycopg.Connection,
    period: Period | str = "month",
    city: str | None = None,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Alerts raised in the period (a burst or a sentiment dip), newest first, with their message."""
    return _select(
        conn,
        """SELECT date, kind, subject_name, subject_type, city, observed, baseline, change_pct, score, posts,
                  platforms, sentiment_now, sentiment_baseline, top_posts, message, provider, alert_id
           FROM kedah.alerts
           WHERE date BETWEEN %(start)s AND %(end)s AND provider = ANY(%(providers)s)
             AND (%(city)s::text IS NULL OR city = %(city)s OR city IS NULL)
           ORDER BY date DESC, kind, subject""",
        period,
        include_demo,
        city=_scope(city),
    )


def account_daily(
    conn: psycopg.Connection,
    period: Period | str = "month",
    platform: str | None = None,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """The board's own accounts per day: reach, views, follows, watch minutes and engagement."""
    metrics = _select(
        conn,
        """SELECT date, platform, account_id, metric, value FROM kedah.account_daily_metrics
           WHERE date BETWEEN %(start)s AND %(end)s AND (%(platform)s = 'all' OR platform = %(platform)s)
             AND (CASE WHEN provider = 'demo' THEN 'demo' ELSE 'real' END) = ANY(%(providers)s)""",
        period,
        include_demo,
        platform=_platform(platform),
    )
    return compare.account_daily(metrics)


def account_performance(
    conn: psycopg.Connection,
    period: Period | str = "month",
    platform: str | None = None,
    *,
    include_demo: IncludeDemo = False,
) -> pd.DataFrame:
    """Per own account over the period: reach, views, follows, watch minutes and engagement, each
    with its value in the period before (``*_previous``) and the change (``*_change_pct``)."""
    p = _period(period)
    return compare.account_performance(
        account_daily(conn, p, platform, include_demo=include_demo),
        account_daily(conn, p.previous(), platform, include_demo=include_demo),
        _previous_note(conn, p, include_demo, accounts=True),
    )
