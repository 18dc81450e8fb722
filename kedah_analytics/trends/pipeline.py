"""What the trend assets compute, as plain functions over warehouse rows."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from kedah_analytics.domain import TIMEZONE_NAME
from kedah_analytics.trends.burst import detect_bursts
from kedah_analytics.trends.counts import (
    daily_term_counts,
    hourly_term_counts,
    trend_series_daily,
    trend_series_hourly,
)
from kedah_analytics.trends.forecast import (
    PREDICTION_COLUMNS,
    ForecastConfig,
    TrendModel,
    dump_model,
    predict_trends,
    train_weekly,
)

TERM_TYPES = ("keyword", "hashtag", "topic", "place")
DAILY_COUNT_COLUMNS = ["date", "platform", "term", "term_type", "posts", "likes", "comments", "shares", "views",
                       "engagement"]  # fmt: skip
HOURLY_COUNT_COLUMNS = ["date", "hour", "platform", "term", "term_type", "posts", "engagement"]
PREDICTION_TABLE_COLUMNS = ["date", *PREDICTION_COLUMNS, "burst_score", "is_bursting"]


def keyword_daily_counts(classified: pd.DataFrame) -> pd.DataFrame:
    """Per Kedah day, platform and term: non-spam posts and engagement."""
    daily = daily_term_counts(classified).rename(columns={"day": "date"})
    return daily[DAILY_COUNT_COLUMNS].reset_index(drop=True)


def keyword_hourly_counts(classified: pd.DataFrame) -> pd.DataFrame:
    """Per Kedah hour, platform and term: non-spam posts and engagement, filed under their day."""
    hourly = hourly_term_counts(classified).rename(columns={"day": "date"})
    return hourly[HOURLY_COUNT_COLUMNS].reset_index(drop=True)


def _forecast_input(daily_counts: pd.DataFrame) -> pd.DataFrame:
    frame = daily_counts.rename(columns={"date": "day"})
    return trend_series_daily(frame, term_types=TERM_TYPES)


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
) -> WeeklyTraining:
    """Backtest and fit on the window; promote the candidate only if it beats the baselines."""
    series = _forecast_input(daily_counts)
    if series.empty:
        raise ValueError(
            f"no keyword counts between {training_start} and {training_end}; nothing to train on"
        )
    outcome = train_weekly(series, current, config, as_of=training_end)
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
        "keywords": int(series["keyword"].nunique()),
    }
    return WeeklyTraining(row, {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                                for k, v in metadata.items()})  # fmt: skip


def predictions_for_day(
    day: date,
    daily_counts: pd.DataFrame,
    hourly_counts: pd.DataFrame,
    model: TrendModel,
    top_n: int = 20,
) -> pd.DataFrame:
    """Top rising terms for ``day``, forecast from the counts up to the day before, with whether
    the burst detector already sees a burst in ``day``'s hours so far."""
    as_of = day - timedelta(days=1)
    series = _forecast_input(daily_counts[daily_counts["date"] <= as_of])
    predictions = predict_trends(model, series, as_of=as_of, top_n=top_n)
    predictions = predictions[predictions["target_date"] == day]
    bursts = _bursts_on(day, hourly_counts)
    predictions = predictions.merge(bursts, on="keyword", how="left")
    predictions["is_bursting"] = predictions["is_bursting"].fillna(False).astype(bool)
    predictions.insert(0, "date", day)
    return predictions[PREDICTION_TABLE_COLUMNS].reset_index(drop=True)


def _bursts_on(day: date, hourly_counts: pd.DataFrame) -> pd.DataFrame:
    if hourly_counts.empty:
        return pd.DataFrame(columns=["keyword", "burst_score", "is_bursting"])
    series = trend_series_hourly(hourly_counts.rename(columns={"date": "day"}), term_types=TERM_TYPES)
    flags = detect_bursts(series)
    flags["day"] = [d.date() for d in pd.to_datetime(flags["timestamp"]).dt.tz_convert(TIMEZONE_NAME)]
    today = flags[flags["day"] == day]
    return today.groupby("keyword", as_index=False).agg(
        burst_score=("score", "max"), is_bursting=("is_trending", "any")
    )
