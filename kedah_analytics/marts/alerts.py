"""Alerts that explain themselves: a term or place that bursts, a place whose sentiment dips.

When one fires is ``alert_rules.py``; what explains it (its posts and message) ``alert_evidence.py``.
A day's alerts are a pure function of its inputs, so re-running or back-filling days in any order
gives the same alerts, with the same ids.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import pandas as pd
import psycopg

from kedah_analytics.marts.alert_evidence import alert_message, evidence, worst_first
from kedah_analytics.marts.alert_ranges import candidates_by_day
from kedah_analytics.marts.alert_rules import AlertConfig, burst_candidates, dip_candidates, platform_kinds

ALERT_COLUMNS = [
    "date", "alert_id", "kind", "subject", "subject_type", "subject_name", "city", "provider", "observed",
    "baseline", "change_pct", "score", "posts", "platforms", "sentiment_now", "sentiment_baseline",
    "top_posts", "message",
]  # fmt: skip


def alert_id(kind: str, subject: str, provider: str, day: date) -> str:
    return hashlib.sha1(f"{kind}|{subject}|{provider}|{day.isoformat()}".encode()).hexdigest()[:16]


@dataclass(frozen=True, eq=False)
class AlertInputs:
    """What alerts are judged on: the terms' and places' hourly counts (``term_hourly_counts``),
    the places' daily metrics (``place_daily_metrics``) and the places themselves."""

    hourly_counts: pd.DataFrame
    place_metrics: pd.DataFrame
    places: pd.DataFrame

    def window(self, day: date, history_days: int) -> AlertInputs:
        """The counts and metrics of ``day`` and the ``history_days`` before it."""
        first = day - timedelta(days=history_days)
        hourly_days, metric_days = self._days
        return AlertInputs(
            self.hourly_counts[(hourly_days >= first) & (hourly_days <= day)],
            self.place_metrics[(metric_days >= first) & (metric_days <= day)],
            self.places,
        )

    @cached_property
    def _days(self) -> tuple[pd.Series, pd.Series]:
        """The days of the counts and of the metrics, parsed once for all the windows cut from them."""
        return _dates(self.hourly_counts), _dates(self.place_metrics)


def build_alerts(
    conn: psycopg.Connection, days: Iterable[date], inputs: AlertInputs, config: AlertConfig | None = None
) -> pd.DataFrame:
    """The alerts of ``days``: bursts and sentiment dips after cooldown, each with its evidence
    (read from the warehouse through ``conn``) and its message."""
    config = config or AlertConfig()
    days = list(days)
    bursts = burst_candidates(inputs.hourly_counts, days, platform_kinds(inputs.place_metrics), config)
    return _explained(conn, bursts, dip_candidates(inputs.place_metrics, days, config), inputs.places, config)


def _explained(
    conn: psycopg.Connection,
    bursts: pd.DataFrame,
    dips: pd.DataFrame,
    places: pd.DataFrame,
    config: AlertConfig,
) -> pd.DataFrame:
    """The alerts of burst and dip candidates, each with its evidence and message."""
    city_of = dict(zip(places["place_id"], places["city"], strict=True)) if len(places) else {}
    name_of = dict(zip(places["place_id"], places["name"], strict=True)) if len(places) else {}
    alerts: list[dict[str, Any]] = []
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
    for row in dips.to_dict("records"):
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
                "top_posts": worst_first(conn, row, config) or found.top_posts,
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


def build_alerts_by_day(
    conn: psycopg.Connection, days: Iterable[date], inputs: AlertInputs, config: AlertConfig | None = None
) -> pd.DataFrame:
    """The alerts of each of ``days`` from its own window of the inputs (the ``history_days``
    before it and the day), as a run of that day alone gives them: the burst detector's running
    sums start where its input starts, so a day judged on a longer input could differ. The same
    rows as :func:`build_alerts` of each day on :meth:`AlertInputs.window`, at a range's speed
    (``alert_ranges``)."""
    config = config or AlertConfig()
    frames = []
    candidates = candidates_by_day(inputs.hourly_counts, inputs.place_metrics, days, config)
    for bursts, dips in candidates.values():
        raised = _explained(conn, bursts, dips, inputs.places, config)
        if len(raised):
            frames.append(raised)
    if not frames:
        return pd.DataFrame(columns=ALERT_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def _dates(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame["date"]).dt.date if len(frame) else pd.Series([], dtype=object)


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
