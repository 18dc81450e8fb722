"""The trend forecaster: each term's volume for the coming day(s), its baselines, its
rolling-origin backtest and the rule that decides whether a newly trained model may serve.

One module per part; this one keeps the names that callers and stored (pickled) models use.

forecast_config  ForecastConfig: model, backtest and promotion settings
panel            daily ``term, date, count[, platform]`` rows (and search interest) as dense arrays
features         lags, robust levels, calendar, cross-platform and search-interest features
model            the gradient-boosting booster, TrendModel, seasonal-naive as a model, (de)serialization
backtest         rolling-origin backtest against seasonal-naive and the 28-day mean
promotion        the rule that lets a candidate serve
predict          ranked predictions with confidence
weekly           the weekly job: backtest, fit, promote

The target is a term's total over all platforms for the day ``horizon`` days after the origin
(the last day observed); the model forecasts its median (absolute-error loss), relative to the
term's robust level, so that heavy-tailed real volume and its level shifts do not drag it.
"""

from __future__ import annotations

from kedah_analytics.trends.backtest import BacktestResult, MethodMetrics, backtest, rise_score
from kedah_analytics.trends.features import LEVEL_FLOOR, TERM_WINDOW, FeatureSet
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.model import (
    MODEL_FORMAT,
    Booster,
    StaleModelError,
    TrendModel,
    dump_model,
    fit_trend_model,
    load_model,
    seasonal_naive_model,
)
from kedah_analytics.trends.panel import Panel, build_panel
from kedah_analytics.trends.predict import PREDICTION_COLUMNS, predict_trends
from kedah_analytics.trends.promotion import PromotionDecision, promote
from kedah_analytics.trends.weekly import TrainingOutcome, train_weekly

__all__ = [
    "LEVEL_FLOOR",
    "MODEL_FORMAT",
    "PREDICTION_COLUMNS",
    "TERM_WINDOW",
    "BacktestResult",
    "Booster",
    "FeatureSet",
    "ForecastConfig",
    "MethodMetrics",
    "Panel",
    "PromotionDecision",
    "StaleModelError",
    "TrainingOutcome",
    "TrendModel",
    "backtest",
    "build_panel",
    "dump_model",
    "fit_trend_model",
    "load_model",
    "predict_trends",
    "promote",
    "rise_score",
    "seasonal_naive_model",
    "train_weekly",
]
