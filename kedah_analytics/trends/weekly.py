"""The weekly job in one call: backtest, fit, and decide what serves next week."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from kedah_analytics.trends.backtest import BacktestResult, backtest
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.model import TrendModel, fit_trend_model, seasonal_naive_model
from kedah_analytics.trends.panel import build_panel
from kedah_analytics.trends.promotion import PromotionDecision, promote


@dataclass
class TrainingOutcome:
    candidate: TrendModel
    backtest: BacktestResult
    decision: PromotionDecision
    serving: TrendModel


def train_weekly(
    daily: pd.DataFrame,
    current: TrendModel | None = None,
    config: ForecastConfig | None = None,
    *,
    as_of: date | None = None,
    search_interest: pd.DataFrame | None = None,
) -> TrainingOutcome:
    """Backtest, fit on everything up to ``as_of``, and decide what serves next week.

    ``current`` is the serving model (its ``backtest`` is what the candidate must not be worse
    than); when it is the seasonal-naive baseline it counts as no model serving.
    ``search_interest`` (``term, date, interest``) joins the features where given.
    """
    config = config or ForecastConfig()
    panel = build_panel(daily, end=as_of, search_interest=search_interest)
    result = backtest(panel, config)
    candidate = fit_trend_model(panel, config, backtest_result=result)
    serving_backtest = current.backtest if current is not None and current.kind == "hgb" else None
    decision = promote(result, serving_backtest, margin=config.promotion_margin)
    if decision.serving == "candidate":
        serving = candidate
    elif current is not None and current.kind == "hgb":
        serving = current
        if decision.serving != "current":  # a serving model without a backtest still serves
            reason = decision.reason.split("; ")[0] + "; keeping the serving model (it has no backtest)"
            decision = PromotionDecision(False, "current", reason)
    else:
        serving = seasonal_naive_model(panel.first_day, panel.last_day, result)
    return TrainingOutcome(candidate=candidate, backtest=result, decision=decision, serving=serving)
