"""Alerts that explain themselves: a term or place that bursts, a place whose sentiment dips.

Bursts come from the trend burst detector (:func:`kedah_analytics.trends.burst.detect_bursts`,
called with its own defaults, so a recalibration of the detector changes what alerts fire
without a change here). A term bursts on a day when any of the day's hours is flagged.

A place's sentiment dips on a day when its mean sentiment over at least ``dip_min_posts``
posts lies ``dip_min_drop`` or more below its own mean over the previous ``baseline_days``
days (at least ``dip_min_baseline_posts`` posts), and the drop is improbable for that many
posts: ``z <= -dip_z`` with the standard error of a mean of ``n`` posts whose per-post
spread is estimated from the baseline's positive and negative counts.

Cooldown: a condition that already held on any of the ``cooldown_days`` days before raises no
new alert, so a burst that lasts three days is one alert. Because the cooldown is computed from
the inputs (not from alerts already stored), a day's alerts are a pure function of its inputs:
re-running or back-filling days in any order gives the same alerts, with the same ids.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import psycopg

from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.domain import TIMEZONE_NAME as KEDAH_TZ
from kedah_analytics.marts.build import REAL, provider_kind
from kedah_analytics.trends.burst import BurstConfig, detect_bursts
from kedah_analytics.trends.counts import TERM_TYPES, trend_series_hourly

ALERT_COLUMNS = [
    "date", "alert_id", "kind", "subject", "subject_type", "subject_name", "city", "provider", "observed",
    "baseline", "change_pct", "score", "posts", "platforms", "sentiment_now", "sentiment_baseline",
    "top_posts", "message",
]  # fmt: skip
MIN_POST_SPREAD = 0.05  # floor on the per-post variance, so a unanimous baseline is not infinitely sure


@dataclass(frozen=True)
class AlertConfig:
    cooldown_days: int = 3
    baseline_days: int = 28
    dip_min_posts: int = 5
    dip_min_baseline_posts: int = 20
    dip_min_drop: float = 0.2
    dip_z: float = 3.0
    top_posts: int = 3

    @property
    def history_days(self) -> int:
        """Days of input before the first alert day: the baseline of each cooldown day."""
        return self.baseline_days + self.cooldown_days


def alert_id(kind: str, subject: str, provider: str, day: date) -> str:
    return hashlib.sha1(f"{kind}|{subject}|{provider}|{day.isoformat()}".encode()).hexdigest()[:16]


def _split_subject(subject: str) -> tuple[str, str]:
    """The term and its type from a trend series key ('place:kuah', 'topic:food', '#x', 'x')."""
    for prefix in ("place", "topic"):
        if subject.startswith(f"{prefix}:"):
            return subject[len(prefix) + 1 :], prefix
    return subject, "hashtag" if subject.startswith("#") else "keyword"


def _kedah_day(timestamps: pd.Series) -> pd.Series:
    ts = pd.to_datetime(timestamps)
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert(KEDAH_TZ)
    return ts.dt.date


def platform_kinds(place_metrics: pd.DataFrame) -> dict[tuple[date, str], str]:
    """``demo`` or ``real`` per (day, platform): which data the day's counts of a platform are."""
    if place_metrics.empty:
        return {}
    frame = place_metrics.assign(kind=provider_kind(place_metrics["provider"]),
                                 day=pd.to_datetime(place_metrics["date"]).dt.date)  # fmt: skip
    out: dict[tuple[date, str], str] = {}
    for (day, platform), kinds in frame.groupby(["day", "platform"])["kind"]:
        out[(day, str(platform))] = DEMO_PROVIDER if (kinds == DEMO_PROVIDER).any() else REAL
    return out


def _with_zero_hours(series: pd.DataFrame, days: list[date]) -> pd.DataFrame:
    """The detector's input plus a zero row for every term and hour of ``days`` that has no
    posts, so that every hour of an alert day gets its expected count (zero rows change no score)."""
    if not days or series.empty:
        return series
    hours = pd.date_range(
        pd.Timestamp(min(days), tz=KEDAH_TZ),
        pd.Timestamp(max(days) + timedelta(days=1), tz=KEDAH_TZ),
        freq="h",
        inclusive="left",
    )
    hours = hours[[h.date() in set(days) for h in hours]]
    grid = pd.MultiIndex.from_product([series["term"].unique(), hours], names=["term", "timestamp"])
    stamps = pd.to_datetime(series["timestamp"]).dt.tz_convert(KEDAH_TZ)
    known = pd.MultiIndex.from_arrays([series["term"], stamps])
    missing = grid.difference(known).to_frame(index=False)
    missing["count"] = 0
    return pd.concat([series.assign(timestamp=stamps), missing], ignore_index=True)


def burst_candidates(
    hourly_counts: pd.DataFrame, days: Iterable[date], kinds: dict[tuple[date, str], str], config: AlertConfig
) -> pd.DataFrame:
    """One row per (day, term) that bursts on the day and not on the cooldown days before it:
    posts and expected posts over its burst window (from the detector's longest window before
    the first flagged hour to the last flagged hour), the best score, the day's posts per
    platform, and whether any of them is demo data."""
    columns = ["date", "subject", "subject_type", "subject_name", "observed", "baseline", "score", "posts",
               "platforms", "provider", "window_start", "window_end"]  # fmt: skip
    days = list(days)
    if hourly_counts.empty:
        return pd.DataFrame(columns=columns)
    series = trend_series_hourly(hourly_counts.rename(columns={"date": "day"}), term_types=TERM_TYPES)
    scored = detect_bursts(_with_zero_hours(series, days), details=True)
    scored["timestamp"] = pd.to_datetime(scored["timestamp"]).dt.tz_convert(KEDAH_TZ)
    scored["day"] = scored["timestamp"].dt.date
    flagged = scored[scored["is_trending"]]
    flagged_days = {(k, d) for k, d in zip(flagged["term"], flagged["day"], strict=True)}
    per_platform = hourly_counts.assign(
        keyword=[_series_key(t, tt) for t, tt in zip(hourly_counts["term"], hourly_counts["term_type"], strict=True)],
        day=pd.to_datetime(hourly_counts["date"]).dt.date,
    )  # fmt: skip
    per_platform = per_platform[per_platform["term_type"].isin(TERM_TYPES)]
    daily_platform = per_platform.groupby(["day", "keyword", "platform"])["posts"].sum()
    reach = timedelta(hours=max(BurstConfig().windows) - 1)
    rows = []
    for day in days:
        today = flagged[flagged["day"] == day]
        for keyword, hours in today.groupby("term"):
            keyword = str(keyword)
            if any(
                (keyword, day - timedelta(days=k)) in flagged_days for k in range(1, config.cooldown_days + 1)
            ):
                continue
            start, end = hours["timestamp"].min() - reach, hours["timestamp"].max()
            term_hours = scored[(scored["term"] == keyword) & scored["timestamp"].between(start, end)]
            platforms = (
                {str(p): int(n) for p, n in daily_platform.loc[(day, keyword)].items()}
                if (day, keyword) in daily_platform.index.droplevel(2)
                else {}
            )
            term, term_type = _split_subject(keyword)
            is_demo = any(kinds.get((day, p), DEMO_PROVIDER) == DEMO_PROVIDER for p in platforms)
            rows.append(
                {
                    "date": day,
                    "subject": keyword,
                    "subject_type": term_type,
                    "subject_name": term,
                    "observed": float(term_hours["count"].sum()),
                    "baseline": round(float(term_hours["expected"].sum()), 4),
                    "score": round(float(hours["score"].max()), 4),
                    "posts": int(sum(platforms.values())),
                    "platforms": platforms,
                    "provider": DEMO_PROVIDER if is_demo else REAL,
                    "window_start": start,
                    "window_end": end + timedelta(hours=1),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def _series_key(term: str, term_type: str) -> str:
    return f"{term_type}:{term}" if term_type in ("topic", "place") else term


def _place_day_sentiment(place_metrics: pd.DataFrame) -> pd.DataFrame:
    frame = place_metrics.assign(
        provider=provider_kind(place_metrics["provider"]),
        date=pd.to_datetime(place_metrics["date"]).dt.date,
        score_sum=place_metrics["sentiment_mean"].fillna(0) * place_metrics["posts"],
    )
    return frame.groupby(["date", "place_id", "provider"], as_index=False)[
        ["posts", "positive", "negative", "score_sum"]
    ].sum()


def dip_candidates(place_metrics: pd.DataFrame, days: Iterable[date], config: AlertConfig) -> pd.DataFrame:
    """One row per (day, place, provider kind) whose mean sentiment dips well below its own
    recent level (see the module docstring) and did not on the cooldown days before it."""
    columns = ["date", "place_id", "provider", "posts", "sentiment_now", "sentiment_baseline", "baseline_posts",
               "z", "negative"]  # fmt: skip
    if place_metrics.empty:
        return pd.DataFrame(columns=columns)
    daily = _place_day_sentiment(place_metrics)

    def dips_on(day: date) -> pd.DataFrame:
        today = daily[(daily["date"] == day) & (daily["posts"] >= config.dip_min_posts)]
        past = daily[(daily["date"] < day) & (daily["date"] >= day - timedelta(days=config.baseline_days))]
        base = past.groupby(["place_id", "provider"])[["posts", "positive", "negative", "score_sum"]].sum()
        base.columns = ["baseline_posts", "base_pos", "base_neg", "base_sum"]
        joined = today.merge(base.reset_index(), on=["place_id", "provider"], how="inner")
        joined = joined[joined["baseline_posts"] >= config.dip_min_baseline_posts]
        if joined.empty:
            return joined.assign(sentiment_now=[], sentiment_baseline=[], z=[])
        now = joined["score_sum"] / joined["posts"]
        mu = joined["base_sum"] / joined["baseline_posts"]
        labels = (joined["base_pos"] - joined["base_neg"]) / joined["baseline_posts"]
        spread = ((joined["base_pos"] + joined["base_neg"]) / joined["baseline_posts"] - labels**2).clip(
            lower=MIN_POST_SPREAD
        )
        z: pd.Series = (now - mu) / np.sqrt(spread / joined["posts"])
        joined = joined.assign(sentiment_now=now.round(6), sentiment_baseline=mu.round(6), z=z.round(4))
        return joined[(mu - now >= config.dip_min_drop) & (z <= -config.dip_z)]

    rows = []
    for day in days:
        hits = dips_on(day)
        if hits.empty:
            continue
        earlier = {
            (p, k)
            for back in range(1, config.cooldown_days + 1)
            for p, k in dips_on(day - timedelta(days=back))[["place_id", "provider"]].itertuples(index=False)
        }
        keep = [(p, k) not in earlier for p, k in hits[["place_id", "provider"]].itertuples(index=False)]
        rows.append(hits[keep])
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.concat(rows, ignore_index=True)[columns]


@dataclass(frozen=True)
class Evidence:
    """The posts behind an alert on its day, and their sentiment against the baseline days'."""

    top_posts: list[dict[str, Any]]
    platforms: dict[str, int]
    sentiment_now: float | None
    sentiment_baseline: float | None


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
    kind = "c.provider = 'demo'" if provider == DEMO_PROVIDER else "c.provider <> 'demo'"
    params = {"term": term, "day": day, "start": day - timedelta(days=config.baseline_days),
              "limit": config.top_posts}  # fmt: skip
    top = conn.execute(
        f"""SELECT c.platform, c.post_id, r.author_name, r.url, left(r.text, 200), c.engagement,
                   c.sentiment_label, round(c.sentiment_score::numeric, 3)::float8
            FROM kedah.classified_posts c JOIN kedah.raw_posts r USING (platform, post_id)
            WHERE c.date = %(day)s AND NOT c.is_spam AND {kind} AND {match}
            ORDER BY c.engagement DESC, c.platform, c.post_id LIMIT %(limit)s""",  # noqa: S608
        params,
    ).fetchall()
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

    keys = ["platform", "post_id", "author_name", "url", "text", "engagement", "sentiment", "sentiment_score"]
    return Evidence([dict(zip(keys, row, strict=True)) for row in top], platforms, mean(True), mean(False))


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


def build_alerts(
    conn: psycopg.Connection,
    days: Iterable[date],
    hourly_counts: pd.DataFrame,
    place_metrics: pd.DataFrame,
    places: pd.DataFrame,
    config: AlertConfig | None = None,
) -> pd.DataFrame:
    """The alerts of ``days``: bursts and sentiment dips after cooldown, each with its evidence
    (read from the warehouse through ``conn``) and its message."""
    config = config or AlertConfig()
    days = list(days)
    city_of = dict(zip(places["place_id"], places["city"], strict=True)) if len(places) else {}
    name_of = dict(zip(places["place_id"], places["name"], strict=True)) if len(places) else {}
    alerts: list[dict[str, Any]] = []
    bursts = burst_candidates(hourly_counts, days, platform_kinds(place_metrics), config)
    for row in _without_place_echoes(bursts, places).to_dict("records"):
        found = evidence(conn, row["date"], row["subject_name"], row["subject_type"], row["provider"], config)
        is_place = row["subject_type"] == "place"
        alerts.append(
            {
                **row,
                "kind": "burst",
                "subject_name": name_of.get(row["subject_name"], row["subject_name"])
                if is_place
                else row["subject_name"],
                "city": city_of.get(row["subject_name"]) if is_place else None,
                "change_pct": _change(row["observed"], row["baseline"]),
                "platforms": found.platforms or row["platforms"],
                "sentiment_now": found.sentiment_now,
                "sentiment_baseline": found.sentiment_baseline,
                "top_posts": found.top_posts,
            }
        )
    for row in dip_candidates(place_metrics, days, config).to_dict("records"):
        found = evidence(conn, row["date"], row["place_id"], "place", row["provider"], config)
        alerts.append(
            {
                "date": row["date"],
                "kind": "sentiment_dip",
                "subject": f"place:{row['place_id']}",
                "subject_type": "place",
                "subject_name": name_of.get(row["place_id"], row["place_id"]),
                "city": city_of.get(row["place_id"]),
                "provider": row["provider"],
                "observed": float(row["sentiment_now"]),
                "baseline": float(row["sentiment_baseline"]),
                "change_pct": _change(row["sentiment_now"], row["sentiment_baseline"]),
                "score": float(row["z"]),
                "posts": int(row["posts"]),
                "platforms": found.platforms,
                "sentiment_now": found.sentiment_now,
                "sentiment_baseline": found.sentiment_baseline,
                "top_posts": _worst_first(conn, row, config) or found.top_posts,
            }
        )
    for alert in alerts:
        alert["alert_id"] = alert_id(alert["kind"], alert["subject"], alert["provider"], alert["date"])
        alert["message"] = alert_message(alert)
    if not alerts:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    out = pd.DataFrame(alerts)
    # jsonb columns: plain Python values, stable key order, so a re-run writes identical rows.
    out["platforms"] = [json.loads(json.dumps(p, sort_keys=True)) for p in out["platforms"]]
    out["top_posts"] = [json.loads(json.dumps(p, default=str)) for p in out["top_posts"]]
    return out[ALERT_COLUMNS].sort_values(["date", "kind", "subject", "provider"], ignore_index=True)


def _squashed(text: str) -> str:
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def _without_place_echoes(bursts: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Drop a keyword or hashtag burst that only names a place bursting the same day ('pekan rabu',
    '#pekanrabu' beside place:pekan_rabu): one event, one alert, the place's."""
    if bursts.empty or places.empty:
        return bursts
    names: dict[str, set[str]] = {}
    for row in places.itertuples(index=False):
        aliases = [row.name, *list(row.aliases_en or []), *list(row.aliases_ms or [])]
        names[str(row.place_id)] = {_squashed(a) for a in aliases if a}
    bursting = bursts[bursts["subject_type"] == "place"]
    echoes: set[tuple[date, str]] = set()
    for day, place_id in zip(bursting["date"], bursting["subject_name"], strict=True):
        echoes |= {(day, n) for n in names.get(str(place_id), set())}
    is_echo = [
        kind in ("keyword", "hashtag") and (day, _squashed(term)) in echoes
        for day, term, kind in zip(
            bursts["date"], bursts["subject_name"], bursts["subject_type"], strict=True
        )
    ]
    return bursts[~pd.Series(is_echo, index=bursts.index)]


def _change(observed: float, baseline: float) -> float | None:
    if not baseline:
        return None
    return round((observed - baseline) / abs(baseline) * 100.0, 2)


def _worst_first(conn: psycopg.Connection, row: dict[str, Any], config: AlertConfig) -> list[dict[str, Any]]:
    """For a dip, the most engaging negative posts of the day explain it better than the top posts."""
    kind = "c.provider = 'demo'" if row["provider"] == DEMO_PROVIDER else "c.provider <> 'demo'"
    found = conn.execute(
        f"""SELECT c.platform, c.post_id, r.author_name, r.url, left(r.text, 200), c.engagement,
                   c.sentiment_label, round(c.sentiment_score::numeric, 3)::float8
            FROM kedah.classified_posts c JOIN kedah.raw_posts r USING (platform, post_id)
            WHERE c.date = %s AND c.place_id = %s AND NOT c.is_spam AND {kind}
            ORDER BY c.sentiment_score, c.engagement DESC, c.post_id LIMIT %s""",  # noqa: S608
        (row["date"], row["place_id"], config.top_posts),
    ).fetchall()
    keys = ["platform", "post_id", "author_name", "url", "text", "engagement", "sentiment", "sentiment_score"]
    return [dict(zip(keys, r, strict=True)) for r in found]


# -- notifications: written by the sensor, never replaced by a re-run of the alerts asset --------


@dataclass(frozen=True)
class PendingAlert:
    alert_id: str
    date: date
    message: str


def pending_alerts(conn: psycopg.Connection, limit: int = 50) -> list[PendingAlert]:
    """Alerts not yet notified (or skipped), oldest first."""
    rows = conn.execute(
        """SELECT a.alert_id, a.date, a.message FROM kedah.alerts a
           LEFT JOIN kedah.alert_notifications n USING (alert_id)
           WHERE n.alert_id IS NULL
           ORDER BY a.date, a.alert_id LIMIT %s""",
        (limit,),
    ).fetchall()
    return [PendingAlert(*row) for row in rows]


def mark_notified(conn: psycopg.Connection, alert: PendingAlert, channel: str) -> bool:
    """Record that an alert went out (or was skipped); False if another process already did."""
    inserted = conn.execute(
        """INSERT INTO kedah.alert_notifications (alert_id, date, channel) VALUES (%s, %s, %s)
           ON CONFLICT (alert_id) DO NOTHING""",
        (alert.alert_id, alert.date, channel),
    ).rowcount
    return inserted == 1
