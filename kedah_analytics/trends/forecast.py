"""The trend forecaster: each keyword's volume for the coming day(s), its baselines, its
rolling-origin backtest and the rule that decides whether a newly trained model may serve.

Data
----
Input is daily counts, ``keyword, date, count`` and optionally ``platform`` (one row per keyword,
day and platform; missing rows are 0). The target is a keyword's total over all platforms for
the day ``horizon`` days after the origin (the last day observed).

Model
-----
``HistGradientBoostingRegressor(loss="poisson")`` on, for each keyword and origin:

* lags of the total (target-relative lags 1, 2, 7 and 14 days; a lag shorter than the horizon is
  replaced by the horizon lag, the freshest value known at the origin);
* rolling means over the 7 and 28 days ending at the origin;
* calendar of the target day: weekday (categorical), day of month, Malaysian holiday flag when
  ``ForecastConfig.holidays`` lists them;
* cross-platform: each platform's count on the origin day and its 7-day mean, as a share of the
  keyword's level (a keyword that rises on Twitter today tends to rise on Instagram tomorrow);
* keyword-level: 56-day mean, days since its first and its last post, share of zero days.

The model is fitted on the ratio of the target to a recent level (``level = (mean7 + mean28) / 2
+ 0.1``) with the level as sample weight. Under Poisson deviance that is exactly a Poisson model
of the count with ``log(level)`` as offset, so one model learns relative effects (weekday lift,
momentum, cross-platform lead) shared by keywords of any size; lags enter as ratios to the level
and ``log(level)`` is a feature of its own.

Baselines
---------
* ``seasonal_naive``: the same weekday last week, ``y[t - 7]``.
* ``count_model``: a constant-rate Poisson model per keyword, i.e. the mean of the last 28 days
  (its maximum-likelihood rate). On series with no structure this is close to the best possible
  forecast, which is what makes the promotion rule below honest.

Backtest
--------
Rolling origin over the last ``n_origins`` days (one origin per day), refitting every
``refit_every`` days as the weekly job does; the model used at an origin was trained only on
targets up to its refit day, which is at or before the origin, and its features use only data up
to the origin. Metrics over all (keyword, origin) points:

* ``mae``: pooled mean absolute error;
* ``mase``: per keyword, its MAE divided by its in-sample seasonal-naive MAE (season 7, on the days
  before the first origin), then the mean over keywords. Keywords whose scale is 0 (no
  week-on-week change at all, e.g. no posts) are skipped and counted in ``n_keywords_unscaled``.
  ``mase_pooled`` (sum of MAEs over sum of scales) is reported too;
* ``precision_at_k`` (k = 10): per origin, the share of the k keywords with the largest predicted
  rise that are among the k with the largest actual rise, averaged over origins. A rise is
  ``(volume - mean7) / sqrt(mean7 + 1)`` with ``mean7`` the 7 days ending at the origin, for
  predicted and actual volume alike.

Promotion
---------
:func:`promote` lets a candidate serve only if its backtest MASE beats both baselines by a margin
(2 % by default) and, when a model is serving, its MASE relative to seasonal-naive is not worse
than the serving model's own backtest figure (backtests of different weeks are compared through
that ratio, not raw MASE). Beating seasonal-naive alone is not enough: on pure noise a mean model
beats seasonal-naive by about 30 % without having learnt anything.
"""

from __future__ import annotations

import hashlib
import io
import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import joblib
import numpy as np
import pandas as pd
import sklearn
from scipy import special
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

MODEL_FORMAT = 1
LEVEL_FLOOR = 0.1
KEYWORD_WINDOW = 56
CAP_DAYS = 365.0


@dataclass(frozen=True)
class ForecastConfig:
    """Forecaster, backtest and promotion settings; defaults are the documented ones."""

    horizon: int = 1
    lags: tuple[int, ...] = (1, 2, 7, 14)
    windows: tuple[int, ...] = (7, 28)
    min_history_days: int = 14
    holidays: tuple[date, ...] = ()
    max_iter: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40
    l2_regularization: float = 1.0
    random_state: int = 0
    # OpenMP threads for the booster. 1 by default: Dagster runs steps side by side, and an
    # oversubscribed OpenMP pool spin-waits (a fit measured 19 s with 2 threads on a busy
    # 2-core machine, 0.4 s with 1).
    n_threads: int | None = 1
    n_origins: int = 28
    refit_every: int = 7
    top_k: int = 10
    promotion_margin: float = 0.02

    def __post_init__(self) -> None:
        if not 1 <= self.horizon <= 7:
            raise ValueError("horizon must be 1..7 days (seasonal-naive needs y[t - 7] known)")
        if self.min_history_days < 8:
            raise ValueError("min_history_days must be at least 8 (a week and a day)")
        if self.n_origins < 1 or self.refit_every < 1 or self.top_k < 1:
            raise ValueError("n_origins, refit_every and top_k must be positive")


# --------------------------------------------------------------------------------------------
# Panel: dense keyword x day (x platform) arrays


@dataclass(frozen=True)
class Panel:
    keywords: np.ndarray  # (K,) object
    days: np.ndarray  # (D,) datetime64[D], consecutive
    total: np.ndarray  # (K, D) float64
    platforms: tuple[str, ...] = ()
    by_platform: np.ndarray | None = None  # (K, D, P) float64

    @property
    def first_day(self) -> date:
        return _to_date(self.days[0])

    @property
    def last_day(self) -> date:
        return _to_date(self.days[-1])


def _to_date(value: np.datetime64) -> date:
    return pd.Timestamp(value).date()


def build_panel(
    daily: pd.DataFrame,
    *,
    start: date | None = None,
    end: date | None = None,
    platforms: Iterable[str] | None = None,
) -> Panel:
    """Dense arrays from ``keyword, date, count[, platform]`` rows; missing days are 0.

    The day range runs from ``start`` (default: the first date) to ``end`` (default: the last),
    rows outside it are dropped. ``platforms`` fixes the platform axis (a trained model's); by
    default it is the platforms in the data, and without a ``platform`` column there is none.
    """
    missing = [c for c in ("keyword", "date", "count") if c not in daily.columns]
    if missing:
        raise ValueError(f"daily counts lack the columns {missing}")
    if daily.empty:
        raise ValueError("daily counts are empty")
    days_col = pd.to_datetime(daily["date"]).to_numpy().astype("datetime64[D]")
    first = np.datetime64(start, "D") if start else days_col.min()
    last = np.datetime64(end, "D") if end else days_col.max()
    if last < first:
        raise ValueError(f"empty day range {first}..{last}")
    counts = pd.to_numeric(daily["count"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    if not np.isfinite(counts).all() or (counts < 0).any():
        raise ValueError("count must be a finite number >= 0 on every row")
    keep = (days_col >= first) & (days_col <= last)
    if not keep.any():
        raise ValueError(f"no daily counts between {first} and {last}")
    frame = daily.loc[keep]
    counts, days_col = counts[keep], days_col[keep]
    codes, keywords = pd.factorize(frame["keyword"].astype(str), sort=True)
    day_pos = (days_col - first).astype(np.int64)
    n_days = int((last - first).astype(np.int64)) + 1
    n_kw = len(keywords)
    total = np.bincount(codes * n_days + day_pos, weights=counts, minlength=n_kw * n_days).reshape(
        n_kw, n_days
    )
    plats: tuple[str, ...] = ()
    by_platform = None
    if platforms is not None or "platform" in frame.columns:
        if platforms is None:
            plats = tuple(sorted(frame["platform"].astype(str).unique()))
        else:
            plats = tuple(platforms)
        if plats and "platform" in frame.columns:
            p_codes = pd.Categorical(frame["platform"].astype(str), categories=list(plats)).codes
            known = p_codes >= 0
            flat = (codes[known] * n_days + day_pos[known]) * len(plats) + p_codes[known]
            by_platform = np.bincount(
                flat, weights=counts[known], minlength=n_kw * n_days * len(plats)
            ).reshape(n_kw, n_days, len(plats))
        elif plats:
            by_platform = np.zeros((n_kw, n_days, len(plats)))
    days = np.arange(first, last + np.timedelta64(1, "D"), dtype="datetime64[D]")
    return Panel(np.asarray(keywords, dtype=object), days, total, plats, by_platform)


# --------------------------------------------------------------------------------------------
# Features


def _trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the ``window`` days ending at each day (fewer at the start), along the last axis."""
    cumulative = np.concatenate([np.zeros((*values.shape[:-1], 1)), np.cumsum(values, axis=-1)], axis=-1)
    idx = np.arange(values.shape[-1])
    lo = np.maximum(idx + 1 - window, 0)
    return (cumulative[..., idx + 1] - cumulative[..., lo]) / (idx + 1 - lo)


def _shift(values: np.ndarray, by: int) -> np.ndarray:
    """``out[..., o] = values[..., o - by]``, NaN before the start."""
    out = np.full(values.shape, np.nan)
    if by < values.shape[-1]:
        out[..., by:] = values[..., : values.shape[-1] - by]
    return out


def _level(mean7: np.ndarray, mean28: np.ndarray) -> np.ndarray:
    return 0.5 * (mean7 + mean28) + LEVEL_FLOOR


@dataclass(frozen=True)
class _FeatureSet:
    names: tuple[str, ...]
    values: np.ndarray  # (F, K, D): features for origin o (index D)
    level: np.ndarray  # (K, D)
    mean7: np.ndarray  # (K, D)
    mean28: np.ndarray  # (K, D)
    categorical: tuple[int, ...]


def _feature_set(panel: Panel, config: ForecastConfig, horizon: int) -> _FeatureSet:
    y = panel.total
    n_kw, n_days = y.shape
    mean = {w: _trailing_mean(y, w) for w in sorted({*config.windows, 7, 28})}
    level = _level(mean[7], mean[28])
    names: list[str] = []
    columns: list[np.ndarray] = []

    def add(name: str, value: np.ndarray) -> None:
        names.append(name)
        columns.append(np.broadcast_to(value, (n_kw, n_days)).astype(np.float64))

    add("log_level", np.log(level))
    lags = sorted({lag if lag >= horizon else horizon for lag in config.lags})
    for lag in lags:
        # Target-relative lag: y[t - lag] with t = o + horizon, i.e. y[o - (lag - horizon)].
        add(f"lag_{lag}", _shift(y, lag - horizon) / level)
    for w in config.windows:
        add(f"mean_{w}", mean[w] / level)
    add("mean_7_over_28", (mean[7] + LEVEL_FLOOR) / (mean[28] + LEVEL_FLOOR))
    add(f"mean_{KEYWORD_WINDOW}", _trailing_mean(y, KEYWORD_WINDOW) / level)

    posted = y > 0
    idx = np.arange(n_days)
    seen = np.maximum.accumulate(np.where(posted, idx, -1), axis=1)
    first_seen = np.where(posted.any(axis=1), posted.argmax(axis=1), n_days)[:, None]
    add("days_since_last_post", np.where(seen >= 0, np.minimum(idx - seen, CAP_DAYS), CAP_DAYS))
    add("keyword_age_days", np.clip(idx[None, :] - first_seen, -1, CAP_DAYS))
    add("zero_share_28", 1.0 - _trailing_mean(posted.astype(np.float64), 28))

    target_days = panel.days + np.timedelta64(horizon, "D")
    weekday = ((target_days.astype(np.int64) + 3) % 7).astype(np.float64)  # 1970-01-01 was a Thursday
    add("target_weekday", weekday[None, :])
    categorical = (len(names) - 1,)
    add("target_day_of_month", pd.DatetimeIndex(target_days).day.to_numpy().astype(np.float64)[None, :])
    if config.holidays:
        holidays = np.array(sorted(config.holidays), dtype="datetime64[D]")
        add("target_is_holiday", np.isin(target_days, holidays).astype(np.float64)[None, :])

    if panel.by_platform is not None and panel.platforms:
        for j, platform in enumerate(panel.platforms):
            series = panel.by_platform[:, :, j]
            add(f"{platform}_today", series / level)
            add(f"{platform}_mean_7", _trailing_mean(series, 7) / level)
    return _FeatureSet(tuple(names), np.stack(columns), level, mean[7], mean[28], categorical)


def _rows(features: _FeatureSet, origins: np.ndarray) -> np.ndarray:
    """Feature matrix for every keyword at each origin index: shape (len(origins) * K, F)."""
    block = features.values[:, :, origins]  # (F, K, O)
    return block.transpose(2, 1, 0).reshape(-1, block.shape[0])


class Booster:
    """A Poisson gradient-boosting model on quantile-binned features.

    The features are binned here (unweighted quantiles, at most 255 bins per column, NaN kept)
    before the booster sees them: scikit-learn 1.9 bins weighted data with one Python-level
    weighted percentile per bin and feature, which took a 76,000-row fit from 2.9 s to 7.4 s
    here (and a 5,000-row fit from 0.3 s to 1.6 s).
    """

    MAX_BINS = 255

    def __init__(self, config: ForecastConfig, categorical: tuple[int, ...]):
        self.config = config
        self.categorical = categorical
        self.edges: list[np.ndarray | None] = []
        self.estimator = HistGradientBoostingRegressor(
            loss="poisson",
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
        return out

    def fit(self, x: np.ndarray, target: np.ndarray, weight: np.ndarray) -> Booster:
        self.edges = []
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
            return self.estimator.predict(self._binned(x))


def _fit(panel: Panel, config: ForecastConfig, horizon: int, last_target: int) -> Booster:
    """Fit on every (keyword, origin) whose target day is at most ``last_target``."""
    features = _feature_set(panel, config, horizon)
    origins = np.arange(config.min_history_days - 1, last_target - horizon + 1)
    if origins.size == 0:
        raise ValueError(
            f"too little history to train: need more than {config.min_history_days + horizon - 1} days, "
            f"have {last_target + 1}"
        )
    x = _rows(features, origins)
    target = panel.total[:, origins + horizon].T.reshape(-1)
    weight = features.level[:, origins].T.reshape(-1)
    # Poisson deviance of y / level weighted by level == Poisson deviance of y with offset log(level).
    return Booster(config, features.categorical).fit(x, target / weight, weight)


def _predict(booster: Booster, features: _FeatureSet, origins: np.ndarray) -> np.ndarray:
    """Predicted volume, shape (K, len(origins))."""
    ratio = booster.predict(_rows(features, origins)).reshape(len(origins), -1).T
    return ratio * features.level[:, origins]


# --------------------------------------------------------------------------------------------
# Backtest


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
    n_keywords: int
    n_keywords_unscaled: int
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
            n_keywords=self.n_keywords,
            n_keywords_unscaled=self.n_keywords_unscaled,
            n_origins=self.n_origins,
            first_origin=self.first_origin.isoformat(),
            last_origin=self.last_origin.isoformat(),
            horizon=self.horizon,
            refit_every=self.refit_every,
            dispersion=self.dispersion,
        )
        return out


def rise_score(volume: np.ndarray, recent_level: np.ndarray) -> np.ndarray:
    """How far a volume is above a keyword's recent level, in Poisson standard deviations."""
    return (volume - recent_level) / np.sqrt(recent_level + 1.0)


def _precision_at_k(predicted: np.ndarray, actual: np.ndarray, k: int) -> float:
    """Mean over columns (origins) of |top-k predicted ∩ top-k actual| / k."""
    n_kw = predicted.shape[0]
    k = min(k, n_kw)
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
    mae_kw = err.mean(axis=1)
    scaled = scale > 0
    mase = float(np.mean(mae_kw[scaled] / scale[scaled])) if scaled.any() else math.nan
    pooled = float(mae_kw.sum() / scale.sum()) if scale.sum() > 0 else math.nan
    precision = _precision_at_k(rise_score(forecast, recent), rise_score(actual, recent), k)
    return MethodMetrics(mase=mase, mase_pooled=pooled, mae=float(err.mean()), precision_at_k=precision)


def _negbin_size(forecast: np.ndarray, actual: np.ndarray) -> float:
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
    features = _feature_set(panel, config, h)
    for start in range(0, n_origins, config.refit_every):
        block = origins[start : start + config.refit_every]
        estimator = _fit(panel, config, h, last_target=int(block[0]))
        model_fc[:, start : start + block.size] = _predict(estimator, features, block)

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
        n_keywords=int(y.shape[0]),
        n_keywords_unscaled=int((scale <= 0).sum()),
        n_origins=int(n_origins),
        first_origin=_to_date(panel.days[origins[0]]),
        last_origin=_to_date(panel.days[origins[-1]]),
        horizon=h,
        top_k=k,
        refit_every=config.refit_every,
        dispersion=_negbin_size(model_fc, actual),
        dispersion_seasonal_naive=_negbin_size(naive_fc, actual),
    )


# --------------------------------------------------------------------------------------------
# Promotion


@dataclass(frozen=True)
class PromotionDecision:
    promote: bool
    serving: Literal["candidate", "current", "seasonal_naive"]
    reason: str


def promote(
    candidate: BacktestResult,
    current: BacktestResult | None = None,
    *,
    margin: float = 0.02,
) -> PromotionDecision:
    """Decide whether the candidate serves, with the reason in words and figures.

    Promote only if the candidate's backtest MASE is below ``(1 - margin)`` times both the
    seasonal-naive and the count-model MASE of the same backtest and, when ``current`` (the
    serving model's own backtest) is given, its MASE relative to seasonal-naive is not worse than
    the serving model's. Otherwise the serving model stays, or seasonal-naive serves if there is
    none.
    """
    fallback: Literal["current", "seasonal_naive"] = "current" if current is not None else "seasonal_naive"
    keep = "keeping the serving model" if current is not None else "serving seasonal-naive"
    m, sn, cm = candidate.model.mase, candidate.seasonal_naive.mase, candidate.count_model.mase
    if not all(math.isfinite(v) for v in (m, sn, cm)):
        return PromotionDecision(
            False, fallback, f"backtest MASE is not defined (model {m}, naive {sn}); {keep}"
        )
    bar = 1.0 - margin
    if not m < bar * sn:
        return PromotionDecision(
            False,
            fallback,
            f"model MASE {m:.3f} does not beat seasonal-naive {sn:.3f} by {margin:.0%}; {keep}",
        )
    if not m < bar * cm:
        return PromotionDecision(
            False,
            fallback,
            f"model MASE {m:.3f} does not beat the count model {cm:.3f} by {margin:.0%} "
            f"(it beats seasonal-naive {sn:.3f}, but so would a plain mean); {keep}",
        )
    if current is not None:
        new, old = candidate.relative_mase, current.relative_mase
        if math.isfinite(old) and not new <= old:
            return PromotionDecision(
                False,
                "current",
                f"model MASE / seasonal-naive MASE {new:.3f} is worse than the serving model's {old:.3f} "
                f"(its backtest to {current.last_origin}); keeping the serving model",
            )
    reason = f"model MASE {m:.3f} beats seasonal-naive {sn:.3f} and the count model {cm:.3f} by at least {margin:.0%}"
    if current is not None:
        reason += (
            f" and its ratio to seasonal-naive {candidate.relative_mase:.3f} is no worse than the serving "
        )
        reason += f"model's {current.relative_mase:.3f}"
    return PromotionDecision(True, "candidate", reason)


# --------------------------------------------------------------------------------------------
# Trained model, serialization, prediction


@dataclass
class TrendModel:
    """A trained forecaster (or the seasonal-naive baseline when ``kind`` says so)."""

    kind: Literal["hgb_poisson", "seasonal_naive"]
    version: str
    config: ForecastConfig
    first_day: date
    last_day: date
    platforms: tuple[str, ...]
    feature_names: tuple[str, ...]
    estimators: tuple[Booster, ...]  # one per horizon step
    dispersion: float = math.inf
    backtest: BacktestResult | None = None
    sklearn_version: str = field(default=sklearn.__version__)
    format: int = MODEL_FORMAT


def _data_hash(panel: Panel, config: ForecastConfig) -> str:
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, panel.keywords)).encode())
    digest.update(panel.days.astype(np.int64).tobytes())
    digest.update(np.ascontiguousarray(panel.total).tobytes())
    if panel.by_platform is not None:
        digest.update(np.ascontiguousarray(panel.by_platform).tobytes())
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
    estimators = tuple(_fit(panel, config, h, last_target=last) for h in range(1, config.horizon + 1))
    names = _feature_set(panel, config, 1).names
    version = f"hgb-poisson-{panel.first_day}_{panel.last_day}-{_data_hash(panel, config)}"
    dispersion = backtest_result.dispersion if backtest_result is not None else math.inf
    return TrendModel(
        kind="hgb_poisson",
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


def dump_model(model: TrendModel) -> bytes:
    """joblib bytes (compressed) of the model, for the trend_model asset."""
    buffer = io.BytesIO()
    joblib.dump(model, buffer, compress=3)
    return buffer.getvalue()


def load_model(blob: bytes) -> TrendModel:
    """Inverse of :func:`dump_model`; only load bytes this project wrote (joblib is pickle)."""
    model = joblib.load(io.BytesIO(blob))
    if not isinstance(model, TrendModel):
        raise TypeError(f"not a TrendModel: {type(model).__name__}")
    if model.format != MODEL_FORMAT:
        raise ValueError(f"model format {model.format} is not {MODEL_FORMAT}; retrain")
    return model


PREDICTION_COLUMNS: tuple[str, ...] = (
    "rank",
    "keyword",
    "origin_date",
    "target_date",
    "horizon",
    "predicted_volume",
    "recent_level",
    "score",
    "confidence",
    "model_version",
)


def _confidence(predicted: np.ndarray, recent: np.ndarray, size: float) -> np.ndarray:
    """P(volume > recent level) if volume ~ NB(mean=predicted, size) (Poisson when size is inf)."""
    mu = np.maximum(predicted, 1e-9)
    threshold = np.floor(recent)  # P(Y > r) = P(Y >= floor(r) + 1)
    if not math.isfinite(size):
        return special.pdtrc(threshold, mu)
    p = size / (size + mu)
    return special.betainc(threshold + 1.0, size, 1.0 - p)


def predict_trends(
    model: TrendModel,
    daily: pd.DataFrame | Panel,
    *,
    as_of: date | None = None,
    top_n: int | None = 20,
) -> pd.DataFrame:
    """Forecast every keyword for the day(s) after ``as_of`` (default: the last day in ``daily``)
    and rank them by predicted rise.

    ``daily`` should hold the same span of days the model was trained on (at least the 56 days up
    to ``as_of``, the longest feature window; fewer than ``min_history_days`` raises); keywords
    with no post in it are not forecast. Columns: ``rank, keyword, origin_date, target_date, horizon, predicted_volume,
    recent_level`` (mean of the 7 days to ``as_of``), ``score`` (predicted rise in Poisson standard
    deviations of the recent level, see :func:`rise_score`), ``confidence`` (probability that the
    volume exceeds the recent level, from a negative binomial whose dispersion is the model's
    backtest error), ``model_version``. Ranked by score within each horizon; ``top_n=None`` keeps
    all keywords.
    """
    if isinstance(daily, Panel):
        panel = daily
    else:
        platforms = model.platforms if model.kind == "hgb_poisson" else None
        panel = build_panel(daily, end=as_of, platforms=platforms)
    if as_of is not None and _to_date(panel.days[-1]) != as_of:
        raise ValueError(f"panel ends on {panel.last_day}, not on as_of {as_of}")
    if panel.total.shape[1] < model.config.min_history_days:
        raise ValueError(
            f"{panel.total.shape[1]} days of counts; the model needs at least {model.config.min_history_days} "
            f"(and reads up to {KEYWORD_WINDOW})"
        )
    origin = np.array([panel.total.shape[1] - 1])
    frames = []
    for h in range(1, model.config.horizon + 1 if model.kind == "hgb_poisson" else 2):
        features = _feature_set(panel, model.config, h)
        if model.kind == "hgb_poisson":
            if features.names != model.feature_names and h == 1:
                raise ValueError("features differ from the model's (platforms or config changed); retrain")
            predicted = _predict(model.estimators[h - 1], features, origin)[:, 0]
        else:
            target = origin[0] + h - 7
            predicted = panel.total[:, target] if target >= 0 else features.mean7[:, origin[0]]
        recent = features.mean7[:, origin[0]]
        score = rise_score(predicted, recent)
        frame = pd.DataFrame(
            {
                "keyword": panel.keywords,
                "origin_date": panel.last_day,
                "target_date": panel.last_day + timedelta(days=h),
                "horizon": h,
                "predicted_volume": predicted,
                "recent_level": recent,
                "score": score,
                "confidence": _confidence(predicted, recent, model.dispersion),
                "model_version": model.version,
            }
        )
        frame = frame.sort_values(["score", "keyword"], ascending=[False, True], kind="stable")
        frame.insert(0, "rank", np.arange(1, len(frame) + 1))
        frames.append(frame.head(top_n) if top_n is not None else frame)
    return pd.concat(frames, ignore_index=True)[list(PREDICTION_COLUMNS)]


# --------------------------------------------------------------------------------------------
# The weekly job in one call


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
) -> TrainingOutcome:
    """Backtest, fit on everything up to ``as_of``, and decide what serves next week.

    ``current`` is the serving model (its ``backtest`` is what the candidate must not be worse
    than); when it is the seasonal-naive baseline it counts as no model serving.
    """
    config = config or ForecastConfig()
    panel = build_panel(daily, end=as_of)
    result = backtest(panel, config)
    candidate = fit_trend_model(panel, config, backtest_result=result)
    serving_backtest = current.backtest if current is not None and current.kind == "hgb_poisson" else None
    decision = promote(result, serving_backtest, margin=config.promotion_margin)
    if decision.serving == "candidate":
        serving = candidate
    elif current is not None and current.kind == "hgb_poisson":
        serving = current
        if decision.serving != "current":  # a serving model without a backtest still serves
            reason = decision.reason.split("; ")[0] + "; keeping the serving model (it has no backtest)"
            decision = PromotionDecision(False, "current", reason)
    else:
        serving = seasonal_naive_model(panel.first_day, panel.last_day, result)
    return TrainingOutcome(candidate=candidate, backtest=result, decision=decision, serving=serving)


__all__ = [
    "BacktestResult",
    "ForecastConfig",
    "MethodMetrics",
    "Panel",
    "PromotionDecision",
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
