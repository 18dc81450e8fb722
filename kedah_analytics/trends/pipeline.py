"""What the trend assets compute, as plain functions over warehouse rows."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from kedah_analytics.trends.burst import detect_bursts
from kedah_analytics.trends.counts import (
    KEDAH_TZ,
    TERM_TYPES,
    aliases_of,
    daily_term_counts,
    hourly_term_counts,
    normalize_term,
    series_key,
    trend_series_daily,
    trend_series_hourly,
)
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.model import TrendModel, dump_model
from kedah_analytics.trends.panel import SEARCH_INTEREST_COLUMNS
from kedah_analytics.trends.predict import PREDICTION_COLUMNS, predict_trends
from kedah_analytics.trends.weekly import train_weekly

DAILY_COUNT_COLUMNS = ["date", "platform", "term", "term_type", "posts", "likes", "comments", "shares", "views",
                       "engagement"]  # fmt: skip
HOURLY_COUNT_COLUMNS = ["date", "hour", "platform", "term", "term_type", "posts", "engagement"]
# The table still calls the term ``keyword`` (kedah.trend_predictions).
PREDICTION_TABLE_COLUMNS = [
    "date",
    *("keyword" if c == "term" else c for c in PREDICTION_COLUMNS),
    "burst_score",
    "burst_score_reason",
    "is_bursting",
]


def keyword_daily_counts(classified: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Per Kedah day, platform and term: non-spam posts and engagement; a keyword that names one
    of ``places`` is counted as that place."""
    daily = daily_term_counts(classified, aliases_of(places)).rename(columns={"day": "date"})
    return daily[DAILY_COUNT_COLUMNS].reset_index(drop=True)


def keyword_hourly_counts(classified: pd.DataFrame, places: pd.DataFrame) -> pd.DataFrame:
    """Per Kedah hour, platform and term: non-spam posts and engagement, filed under their day."""
    hourly = hourly_term_counts(classified, aliases_of(places)).rename(columns={"day": "date"})
    return hourly[HOURLY_COUNT_COLUMNS].reset_index(drop=True)


def _forecast_input(daily_counts: pd.DataFrame) -> pd.DataFrame:
    frame = daily_counts.rename(columns={"date": "day"})
    return trend_series_daily(frame, term_types=TERM_TYPES)


def search_interest_terms(search_interest: pd.DataFrame | None, places: pd.DataFrame) -> pd.DataFrame | None:
    """``kedah.search_interest`` rows as ``term, date, interest`` under the trend series' names
    (a tracked keyword that names one of ``places`` is that place); None when there are none."""
    if search_interest is None or search_interest.empty:
        return None
    aliases = aliases_of(places)
    terms = []
    for keyword in search_interest["keyword"].tolist():
        folded = normalize_term(keyword)
        place = aliases.get(folded)
        terms.append(series_key(place, "place") if place else folded)
    frame = pd.DataFrame(
        {
            "term": terms,
            "date": search_interest["date"].to_numpy(),
            "interest": pd.to_numeric(search_interest["interest"], errors="coerce").to_numpy(),
        }
    )
    frame = frame[frame["term"] != ""]
    # Several geos or spellings of one term on one day: their mean.
    means = frame.groupby(["term", "date"], as_index=False).agg(interest=("interest", "mean"))
    return means[list(SEARCH_INTEREST_COLUMNS)]


def _or_none(places: pd.DataFrame | None) -> pd.DataFrame:
    return places if places is not None else pd.DataFrame(columns=["place_id", "name"])


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


@dataclass
class WeeklyTraining:
    row: dict[str, Any]
    metadata: dict[str, Any]


def train_week(
    daily_counts: pd.DataFrame,
    current: TrendModel | None,
    week_start: date,
    training_start: date,
    training_end: date,
    config: ForecastConfig | None = None,
    search_interest: pd.DataFrame | None = None,
    places: pd.DataFrame | None = None,
) -> WeeklyTraining:
    """Backtest and fit on the window; promote the candidate only if it beats the baselines.
    ``search_interest`` (``kedah.search_interest`` rows) joins the features where it has rows,
    its keywords named as the counts name them (``places`` turns place names into places)."""
    series = _forecast_input(daily_counts)
    if series.empty:
        raise ValueError(f"no term counts between {training_start} and {training_end}; nothing to train on")
    interest = search_interest_terms(search_interest, _or_none(places))
    outcome = train_weekly(series, current, config, as_of=training_end, search_interest=interest)
    metrics = _json_safe(outcome.backtest.as_dict())
    row = {
        "week_start": week_start,
        "training_start": training_start,
        "training_end": training_end,
        "candidate_version": outcome.candidate.version,
        "promoted": outcome.decision.promote,
        "serving_version": outcome.serving.version,
        "serving_kind": outcome.serving.kind,
        "reason": outcome.decision.reason,
        "metrics": json.loads(json.dumps(metrics, default=str)),
        "candidate_model": dump_model(outcome.candidate),
        "serving_model": dump_model(outcome.serving),
    }
    backtest = outcome.backtest
    metadata = {
        "promoted": outcome.decision.promote,
        "reason": outcome.decision.reason,
        "candidate_version": outcome.candidate.version,
        "serving_version": outcome.serving.version,
        "mase_model": backtest.model.mase,
        "mase_seasonal_naive": backtest.seasonal_naive.mase,
        "mase_count_model": backtest.count_model.mase,
        "mae_model": backtest.model.mae,
        "precision_at_10": backtest.model.precision_at_k,
        "terms": int(series["term"].nunique()),
        "terms_with_search_interest": 0 if interest is None else int(interest["term"].nunique()),
    }
    return WeeklyTraining(row, {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                for k, v in metadata.items()})  # fmt: skip


def predictions_for_day(
    day: date,
    daily_counts: pd.DataFrame,
    hourly_counts: pd.DataFrame,
    model: TrendModel,
    top_n: int = 20,
    search_interest: pd.DataFrame | None = None,
    places: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Top rising terms for ``day``, forecast from the counts up to the day before, with whether
    the burst detector already sees a burst in ``day``'s hours so far. A term without a burst
    score gets NULL and the reason in ``burst_score_reason``."""
    as_of = day - timedelta(days=1)
    series = _forecast_input(daily_counts[daily_counts["date"] <= as_of])
    interest = search_interest_terms(search_interest, _or_none(places))
    predictions = predict_trends(model, series, as_of=as_of, top_n=top_n, search_interest=interest)
    predictions = predictions[predictions["target_date"] == day]
    bursts = bursts_on(day, hourly_counts)
    predictions = predictions.merge(bursts, on="term", how="left")
    unscored = predictions["burst_score_reason"].isna() & predictions["burst_score"].isna()
    predictions.loc[unscored, "burst_score_reason"] = f"no posts on {day} so far"
    predictions["is_bursting"] = predictions["is_bursting"].astype("boolean").fillna(False).astype(bool)
    # NULL, not NaN: Postgres would store NaN as a number.
    predictions["burst_score"] = (
        predictions["burst_score"].astype(object).where(predictions["burst_score"].notna(), None)
    )
    predictions.insert(0, "date", day)
    predictions = predictions.rename(columns={"term": "keyword"})
    return predictions[PREDICTION_TABLE_COLUMNS].reset_index(drop=True)


def bursts_on(day: date, hourly_counts: pd.DataFrame) -> pd.DataFrame:
    """Per term with posts on ``day``: the highest burst score of its hours (NaN with the reason
    when none is scored) and whether any hour is above the detector's threshold."""
    columns = ["term", "burst_score", "burst_score_reason", "is_bursting"]
    if hourly_counts.empty:
        return pd.DataFrame(columns=columns)
    series = trend_series_hourly(hourly_counts.rename(columns={"date": "day"}), term_types=TERM_TYPES)
    flags = detect_bursts(series, details=True)
    stamps = pd.to_datetime(flags["timestamp"])
    local = stamps.dt.tz_convert(KEDAH_TZ) if isinstance(stamps.dtype, pd.DatetimeTZDtype) else stamps
    today = flags[(local.dt.date == day).to_numpy()]
    if today.empty:
        return pd.DataFrame(columns=columns)
    grouped = today.groupby("term", as_index=False).agg(
        burst_score=("score", "max"),
        burst_score_reason=("score_reason", "first"),
        is_bursting=("is_above_threshold", "any"),
    )
    grouped["burst_score_reason"] = grouped["burst_score_reason"].where(grouped["burst_score"].isna(), None)
    return grouped[columns]
