"""Rolling-origin backtest of the forecaster against seasonal-naive and the 28-day mean.

Baselines
---------
* ``seasonal_naive``: the same weekday last week, ``y[t - 7]``.
* ``count_model``: a constant-rate model per term, the mean of the last 28 days (its
  maximum-likelihood Poisson rate). On series with no structure this is close to the best
  possible forecast, which is what makes the promotion rule honest.

Rolling origin over the last ``n_origins`` days (one origin per day), refitting every
``refit_every`` days as the weekly job does; the model used at an origin was trained only on
targets up to its refit day, which is at or before the origin, and its features use only data up
to the origin. Metrics over all (term, origin) points:

* ``mae``: pooled mean absolute error;
* ``mase``: per term, its MAE divided by its in-sample seasonal-naive MAE (season 7, on the days
  before the first origin), then the mean over terms. Terms whose scale is 0 (no week-on-week
  change at all, e.g. no posts) are skipped and counted in ``n_terms_unscaled``. ``mase_pooled``
  (sum of MAEs over sum of scales) is reported too;
* ``precision_at_k`` (k = 10): per origin, the share of the k terms with the largest predicted
  rise that are among the k with the largest actual rise, averaged over origins. A rise is
  ``(volume - mean7) / sqrt(mean7 + 1)`` with ``mean7`` the 7 days ending at the origin, for
  predicted and actual volume alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from kedah_analytics.trends.features import feature_set
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.model import fit_booster, predict_volume
from kedah_analytics.trends.panel import Panel, build_panel, to_date


@dataclass(frozen=True)
class MethodMetrics:
    mase: float
    mase_pooled: float
    mae: float
    precision_at_k: float


@dataclass(frozen=True)
class BacktestResult:
    """Rolling-origin backtest of the model and both baselines on the same points."""

    model: MethodMetrics
    seasonal_naive: MethodMetrics
    count_model: MethodMetrics
    n_terms: int
    n_terms_unscaled: int
    n_origins: int
    first_origin: date
    last_origin: date
    horizon: int
    top_k: int
    refit_every: int
    dispersion: float  # negative-binomial size of the model's backtest errors
    dispersion_seasonal_naive: float

    @property
    def relative_mase(self) -> float:
        """Model MASE over seasonal-naive MASE on the same points (< 1 is better)."""
        if not self.seasonal_naive.mase > 0:
            return math.nan
        return self.model.mase / self.seasonal_naive.mase

    def as_dict(self) -> dict[str, Any]:
        """Flat figures, e.g. for Dagster metadata or the eval-trends report."""
        out: dict[str, Any] = {}
        for name in ("model", "seasonal_naive", "count_model"):
            metrics: MethodMetrics = getattr(self, name)
            out[f"mase_{name}"] = metrics.mase
            out[f"mase_pooled_{name}"] = metrics.mase_pooled
            out[f"mae_{name}"] = metrics.mae
            suffix = "" if name == "model" else f"_{name}"
            out[f"precision_at_{self.top_k}{suffix}"] = metrics.precision_at_k
        out.update(
            relative_mase=self.relative_mase,
            n_terms=self.n_terms,
            n_terms_unscaled=self.n_terms_unscaled,
            n_origins=self.n_origins,
            first_origin=self.first_origin.isoformat(),
            last_origin=self.last_origin.isoformat(),
            horizon=self.horizon,
            refit_every=self.refit_every,
            dispersion=self.dispersion,
        )
        return out


def rise_score(volume: np.ndarray, recent_level: np.ndarray) -> np.ndarray:
    """How far a volume is above a term's recent level, in Poisson standard deviations."""
    return np.asarray((volume - recent_level) / np.sqrt(recent_level + 1.0))


def _precision_at_k(predicted: np.ndarray, actual: np.ndarray, k: int) -> float:
    """Mean over columns (origins) of |top-k predicted ∩ top-k actual| / k."""
    n_terms = predicted.shape[0]
    k = min(k, n_terms)
    if k == 0:
        return math.nan
    hits = []
    for j in range(predicted.shape[1]):
        top_pred = np.argsort(-predicted[:, j], kind="stable")[:k]
        top_true = np.argsort(-actual[:, j], kind="stable")[:k]
        hits.append(np.intersect1d(top_pred, top_true).size / k)
    return float(np.mean(hits))


def _metrics(
    forecast: np.ndarray, actual: np.ndarray, scale: np.ndarray, recent: np.ndarray, k: int
) -> MethodMetrics:
    err = np.abs(forecast - actual)
    mae_term = err.mean(axis=1)
    scaled = scale > 0
    mase = float(np.mean(mae_term[scaled] / scale[scaled])) if scaled.any() else math.nan
    pooled = float(mae_term.sum() / scale.sum()) if scale.sum() > 0 else math.nan
    precision = _precision_at_k(rise_score(forecast, recent), rise_score(actual, recent), k)
    return MethodMetrics(mase=mase, mase_pooled=pooled, mae=float(err.mean()), precision_at_k=precision)


def negbin_size(forecast: np.ndarray, actual: np.ndarray) -> float:
    """Method-of-moments size of a negative binomial around the forecasts (inf = Poisson)."""
    mu = np.maximum(forecast.reshape(-1), 1e-9)
    excess = float(np.sum((actual.reshape(-1) - mu) ** 2 - mu))
    if excess <= 0:
        return math.inf
    return float(np.sum(mu**2) / excess)


def backtest(daily: pd.DataFrame | Panel, config: ForecastConfig | None = None) -> BacktestResult:
    """Rolling-origin backtest of the model against seasonal-naive and the count model.

    With less data than ``n_origins`` origins plus ``min_history_days + horizon + 7`` days of
    training, the number of origins shrinks; with less than that it raises ``ValueError``.
    """
    config = config or ForecastConfig()
    panel = daily if isinstance(daily, Panel) else build_panel(daily)
    h = config.horizon
    n_days = panel.total.shape[1]
    last_origin = n_days - 1 - h
    # The first refit needs training targets beyond min_history, and the scale needs a week.
    earliest = config.min_history_days + h + 7
    n_origins = min(config.n_origins, last_origin - earliest + 1)
    if n_origins < 1:
        raise ValueError(
            f"too little data to backtest: {n_days} days, need at least {earliest + h + 1} "
            f"({config.min_history_days} days of history, 7 for training and the horizon)"
        )
    origins = np.arange(last_origin - n_origins + 1, last_origin + 1)
    targets = origins + h
    y = panel.total
    actual = y[:, targets]

    model_fc = np.zeros_like(actual)
    features = feature_set(panel, config, h)
    for start in range(0, n_origins, config.refit_every):
        block = origins[start : start + config.refit_every]
        booster = fit_booster(panel, config, h, last_target=int(block[0]))
        model_fc[:, start : start + block.size] = predict_volume(booster, features, block)

    naive_fc = y[:, targets - 7]
    count_fc = features.mean28[:, origins]
    recent = features.mean7[:, origins]

    in_sample = y[:, : origins[0] + 1]
    scale = np.abs(in_sample[:, 7:] - in_sample[:, :-7]).mean(axis=1)
    k = config.top_k
    return BacktestResult(
        model=_metrics(model_fc, actual, scale, recent, k),
        seasonal_naive=_metrics(naive_fc, actual, scale, recent, k),
        count_model=_metrics(count_fc, actual, scale, recent, k),
        n_terms=int(y.shape[0]),
        n_terms_unscaled=int((scale <= 0).sum()),
        n_origins=int(n_origins),
        first_origin=to_date(panel.days[origins[0]]),
        last_origin=to_date(panel.days[origins[-1]]),
        horizon=h,
        top_k=k,
        refit_every=config.refit_every,
        dispersion=negbin_size(model_fc, actual),
        dispersion_seasonal_naive=negbin_size(naive_fc, actual),
    )
