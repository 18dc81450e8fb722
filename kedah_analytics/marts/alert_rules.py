"""When an alert fires: a term or place that bursts, a place whose sentiment dips, after cooldown.

Bursts come from the trend burst detector (:func:`kedah_analytics.trends.burst.detect_bursts`,
called with its own defaults, so a recalibration of the detector changes what alerts fire
without a change here). A term bursts on a day when any of the day's hours is flagged.

A place's sentiment dips on a day when its mean sentiment over at least ``dip_min_posts``
posts lies ``dip_min_drop`` or more below its own mean over the previous ``baseline_days``
days (at least ``dip_min_baseline_posts`` posts), and the drop is improbable for that many
posts: ``z <= -dip_z`` with the standard error of a mean of ``n`` posts whose per-post
spread is estimated from the baseline's positive and negative counts.

Neither fires without history: at least ``min_history_days`` of the ``baseline_days`` before the
day must hold data (a one-day baseline is no baseline).

Cooldown: a condition that already held on any of the ``cooldown_days`` days before raises no
new alert, so a burst that lasts three days is one alert. Because the cooldown is computed from
the inputs (not from alerts already stored), a day's alerts are a pure function of its inputs:
re-running or back-filling days in any order gives the same alerts, with the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from functools import cache

import numpy as np
import pandas as pd

from kedah_analytics.domain import DEMO_PROVIDER
from kedah_analytics.domain import TIMEZONE_NAME as KEDAH_TZ
from kedah_analytics.marts.alert_config import AlertConfig as AlertConfig  # re-exported
from kedah_analytics.marts.build import REAL, provider_kind
from kedah_analytics.trends.burst import BurstConfig, detect_bursts
from kedah_analytics.trends.counts import TERM_TYPES, trend_series_hourly

MIN_POST_SPREAD = 0.05  # floor on the per-post variance, so a unanimous baseline is not infinitely sure
BURST_CANDIDATE_COLUMNS = ["date", "subject", "subject_type", "subject_name", "observed", "baseline", "score",
                           "posts", "platforms", "provider", "window_start", "window_end"]  # fmt: skip


def has_history(days_with_data: set[date], day: date, config: AlertConfig) -> bool:
    """Whether at least ``min_history_days`` of the ``baseline_days`` before ``day`` hold data."""
    first = day - timedelta(days=config.baseline_days)
    return sum(1 for d in days_with_data if first <= d < day) >= config.min_history_days


def split_subject(subject: str) -> tuple[str, str]:
    """The term and its type from a trend series key ('place:kuah', 'topic:food', '#x', 'x')."""
    for prefix in ("place", "topic"):
        if subject.startswith(f"{prefix}:"):
            return subject[len(prefix) + 1 :], prefix
    return subject, "hashtag" if subject.startswith("#") else "keyword"


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
    columns = BURST_CANDIDATE_COLUMNS
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
        # .tolist() converts a column at once; zip over pyarrow-backed strings boxes each value.
        keyword=[_series_key(t, tt) for t, tt in
                 zip(hourly_counts["term"].tolist(), hourly_counts["term_type"].tolist(), strict=True)],
        day=pd.to_datetime(hourly_counts["date"]).dt.date,
    )  # fmt: skip
    per_platform = per_platform[per_platform["term_type"].isin(TERM_TYPES)]
    daily_platform = per_platform.groupby(["day", "keyword", "platform"])["posts"].sum()
    reach = timedelta(hours=max(BurstConfig().windows) - 1)
    known_days = set(per_platform["day"])
    rows = []
    for day in days:
        if not has_history(known_days, day, config):
            continue
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
            term, term_type = split_subject(keyword)
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

    @cache  # a day's dips are asked for again as an earlier day of each of the next cooldown days
    def dips_on(day: date) -> pd.DataFrame:
        today = daily[(daily["date"] == day) & (daily["posts"] >= config.dip_min_posts)]
        past = daily[(daily["date"] < day) & (daily["date"] >= day - timedelta(days=config.baseline_days))]
        base = past.groupby(["place_id", "provider"])[["posts", "positive", "negative", "score_sum"]].sum()
        base.columns = ["baseline_posts", "base_pos", "base_neg", "base_sum"]
        joined = today.merge(base.reset_index(), on=["place_id", "provider"], how="inner")
        joined = joined[joined["baseline_posts"] >= config.dip_min_baseline_posts]
        if not has_history(set(past["date"]), day, config):
            joined = joined.iloc[0:0]
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
