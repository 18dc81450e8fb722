"""The trained forecaster: its booster, fitting, the servable models and their serialization.

``HistGradientBoostingRegressor`` is fitted on the ratio of the target to the term's level with
the level as sample weight. Under absolute error that is exactly the absolute error of the count
(``level * |y / level - f| = |y - level * f|``), and under Poisson deviance exactly a Poisson
model of the count with ``log(level)`` as offset; either way one model learns relative effects
(weekday lift, momentum, cross-platform lead) shared by terms of any size.
"""

from __future__ import annotations

import hashlib
import io
import math
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from kedah_analytics.trends.features import FeatureSet, feature_rows, feature_set
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.panel import Panel, build_panel

if TYPE_CHECKING:
    from kedah_analytics.trends.backtest import BacktestResult

# 2: median (absolute-error) models on robust levels, terms merged per entity, search interest.
MODEL_FORMAT = 2
ModelKind = Literal["hgb", "seasonal_naive"]


class Booster:
    """A gradient-boosting model on quantile-binned features.

    The features are binned here (unweighted quantiles, at most 255 bins per column, NaN kept)
    before the booster sees them: scikit-learn 1.9 bins weighted data with one Python-level
    weighted percentile per bin and feature, which took a 76,000-row fit from 2.9 s to 7.4 s
    here (and a 5,000-row fit from 0.3 s to 1.6 s).

    A column with no value in the training rows (search interest whose first days come after
    every training origin of a backtest block) is fitted and predicted as a constant: the booster
    cannot split on it, and scikit-learn 1.9 cannot bin an all-NaN column at all (it raises
    "window shape cannot be larger than input array shape").
    """

    MAX_BINS = 255
    # Columns without a value in the training rows; a class default, so that boosters pickled
    # before it existed (format 2) load and predict as they did.
    unseen: tuple[int, ...] = ()

    def __init__(self, config: ForecastConfig, categorical: tuple[int, ...]):
        self.config = config
        self.categorical = categorical
        # scikit-learn (and SciPy under it) loads when a model is built, not when the code
        # location is imported: every run, UI reload and sensor tick would pay for it.
        from sklearn.ensemble import HistGradientBoostingRegressor

        self.edges: list[np.ndarray | None] = []
        self.estimator = HistGradientBoostingRegressor(
            loss=config.loss,
            learning_rate=config.learning_rate,
            max_iter=config.max_iter,
            max_leaf_nodes=config.max_leaf_nodes,
            min_samples_leaf=config.min_samples_leaf,
            l2_regularization=config.l2_regularization,
            categorical_features=list(categorical) or None,
            early_stopping=False,
            random_state=config.random_state,
        )

    def _binned(self, x: np.ndarray) -> np.ndarray:
        out = x.copy()
        for j, edges in enumerate(self.edges):
            if edges is not None:
                column = x[:, j]
                known = ~np.isnan(column)
                out[known, j] = np.searchsorted(edges, column[known], side="right")
        out[:, list(self.unseen)] = 0.0
        return out

    def fit(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray) -> Booster:
        self.edges = []
        self.unseen = tuple(int(j) for j in np.flatnonzero(np.isnan(x).all(axis=0)))
        quantiles = np.linspace(0.0, 1.0, self.MAX_BINS + 1)[1:-1]
        for j in range(x.shape[1]):
            column = x[:, j]
            column = column[~np.isnan(column)]
            if j in self.categorical or np.unique(column).size <= self.MAX_BINS:
                self.edges.append(None)
            else:
                self.edges.append(np.unique(np.quantile(column, quantiles)))
        with threadpool_limits(limits=self.config.n_threads, user_api="openmp"):
            self.estimator.fit(self._binned(x), target, sample_weight=weight)
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        with threadpool_limits(limits=self.config.n_threads, user_api="openmp"):
            return np.asarray(self.estimator.predict(self._binned(x)))


def fit_booster(panel: Panel, config: ForecastConfig, horizon: int, last_target: int) -> Booster:
    """Fit on every (term, origin) whose target day is at most ``last_target``."""
    features = feature_set(panel, config, horizon)
    origins = np.arange(config.min_history_days - 1, last_target - horizon + 1)
    if origins.size == 0:
        raise ValueError(
            f"too little history to train: need more than {config.min_history_days + horizon - 1} days, "
            f"have {last_target + 1}"
        )
    x = feature_rows(features, origins)
    target = panel.total[:, origins + horizon].T.reshape(-1)
    weight = features.level[:, origins].T.reshape(-1)
    return Booster(config, features.categorical).fit(x, target / weight, weight)


def predict_volume(booster: Booster, features: FeatureSet, origins: np.ndarray) -> np.ndarray:
    """Predicted volume, shape (K, len(origins))."""
    ratio = booster.predict(feature_rows(features, origins)).reshape(len(origins), -1).T
    return np.maximum(ratio, 0.0) * features.level[:, origins]


@dataclass
class TrendModel:
    """A trained forecaster (or the seasonal-naive baseline when ``kind`` says so)."""

    kind: ModelKind
    version: str
    config: ForecastConfig
    first_day: date
    last_day: date
    platforms: tuple[str, ...]
    feature_names: tuple[str, ...]
    estimators: tuple[Booster, ...]  # one per horizon step
    dispersion: float = math.inf
    backtest: BacktestResult | None = None
    sklearn_version: str = field(default_factory=lambda: _sklearn_version())
    format: int = MODEL_FORMAT

    @property
    def uses_search_interest(self) -> bool:
        return any(name.startswith("search_interest") for name in self.feature_names)


def _data_hash(panel: Panel, config: ForecastConfig) -> str:
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, panel.terms)).encode())
    digest.update(panel.days.astype(np.int64).tobytes())
    digest.update(np.ascontiguousarray(panel.total).tobytes())
    if panel.by_platform is not None:
        digest.update(np.ascontiguousarray(panel.by_platform).tobytes())
    if panel.search_interest is not None:
        digest.update(np.ascontiguousarray(panel.search_interest).tobytes())
    digest.update(",".join(panel.platforms).encode())
    digest.update(repr(sorted(asdict(config).items())).encode())
    return digest.hexdigest()[:12]


def fit_trend_model(
    daily: pd.DataFrame | Panel,
    config: ForecastConfig | None = None,
    *,
    backtest_result: BacktestResult | None = None,
) -> TrendModel:
    """Fit on all the data given; ``backtest_result`` (from :func:`backtest` on the same data)
    supplies the error dispersion behind the confidence of predictions."""
    config = config or ForecastConfig()
    panel = daily if isinstance(daily, Panel) else build_panel(daily)
    last = panel.total.shape[1] - 1
    estimators = tuple(fit_booster(panel, config, h, last_target=last) for h in range(1, config.horizon + 1))
    names = feature_set(panel, config, 1).names
    version = (
        f"hgb-{config.loss.replace('_', '-')}-{panel.first_day}_{panel.last_day}-{_data_hash(panel, config)}"
    )
    dispersion = backtest_result.dispersion if backtest_result is not None else math.inf
    return TrendModel(
        kind="hgb",
        version=version,
        config=config,
        first_day=panel.first_day,
        last_day=panel.last_day,
        platforms=panel.platforms,
        feature_names=names,
        estimators=estimators,
        dispersion=dispersion,
        backtest=backtest_result,
    )


def seasonal_naive_model(
    first_day: date, last_day: date, backtest_result: BacktestResult | None = None
) -> TrendModel:
    """The baseline as a servable model: tomorrow = the same weekday last week."""
    dispersion = backtest_result.dispersion_seasonal_naive if backtest_result is not None else math.inf
    return TrendModel(
        kind="seasonal_naive",
        version=f"seasonal-naive-{first_day}_{last_day}",
        config=ForecastConfig(),
        first_day=first_day,
        last_day=last_day,
        platforms=(),
        feature_names=(),
        estimators=(),
        dispersion=dispersion,
        backtest=backtest_result,
    )


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


class StaleModelError(ValueError):
    """A stored model of an older format: it cannot serve, and the next weekly run replaces it."""


def dump_model(model: TrendModel) -> bytes:
    """joblib bytes (compressed) of the model, for the trend_model asset."""
    import joblib

    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def load_model(blob: bytes) -> TrendModel:
    """Inverse of :func:`dump_model`; only load bytes this project wrote (joblib is pickle)."""
    import joblib

    try:
        model = joblib.load(io.BytesIO(blob))
    except (ModuleNotFoundError, AttributeError) as err:
        # Format 1 pickled its classes under ``kedah_analytics.trends.forecast``, which is gone.
        raise StaleModelError(f"model of an older layout ({err}); retrain") from err
    if not isinstance(model, TrendModel):
        raise TypeError(f"not a TrendModel: {type(model).__name__}")
    if getattr(model, "format", None) != MODEL_FORMAT:
        raise StaleModelError(f"model format {getattr(model, 'format', None)} is not {MODEL_FORMAT}; retrain")
    return model
