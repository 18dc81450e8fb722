"""The forecaster's features for every term and origin day, from a :class:`Panel`.

For each term and origin (the last day observed) and a target ``horizon`` days later:

* lags of the total (target-relative lags 1, 2, 7 and 14 days; a lag shorter than the horizon is
  replaced by the horizon lag, the freshest value known at the origin);
* means over the 7 and 28 days ending at the origin, their ratio, and the 56-day mean;
* calendar of the target day: weekday (categorical), day of month, Malaysian holiday flag when
  ``ForecastConfig.holidays`` lists them;
* cross-platform: each platform's count on the origin day and its 7-day mean (a term that rises
  on Twitter today tends to rise on Instagram tomorrow);
* term-level: days since its first and its last post, share of zero days in the last 28;
* search interest, where the panel has it: Google Trends interest on the origin day and over
  the last 7 days, each against its 28-day mean (NaN where the term is not tracked).

Counts enter as ratios to the term's level, ``(median7 + median28) / 2 + 0.1``: medians, so
that one burst does not lift the level that the next days are forecast from, and a level shift
is followed within days. ``log(level)`` is a feature of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.panel import Panel

LEVEL_FLOOR = 0.1
TERM_WINDOW = 56
CAP_DAYS = 365.0


def trailing_mean(values: np.ndarray, window: int) -> np.ndarray:
    """Mean of the ``window`` days ending at each day (fewer at the start), along the last axis."""
    cumulative = np.concatenate([np.zeros((*values.shape[:-1], 1)), np.cumsum(values, axis=-1)], axis=-1)
    idx = np.arange(values.shape[-1])
    lo = np.maximum(idx + 1 - window, 0)
    return (cumulative[..., idx + 1] - cumulative[..., lo]) / (idx + 1 - lo)


def _trailing(values: np.ndarray, window: int, how: str) -> np.ndarray:
    """Median or NaN-skipping mean of the ``window`` days ending at each day, per row of (K, D)."""
    rolling = pd.DataFrame(values.T).rolling(window, min_periods=1)
    out = rolling.median() if how == "median" else rolling.mean()
    return out.to_numpy(dtype=np.float64).T


def shift(values: np.ndarray, by: int) -> np.ndarray:
    """``out[..., o] = values[..., o - by]``, NaN before the start."""
    out = np.full(values.shape, np.nan)
    if by < values.shape[-1]:
        out[..., by:] = values[..., : values.shape[-1] - by]
    return out


def level_of(y: np.ndarray) -> np.ndarray:
    """A term's robust recent level at each day: the mean of its 7- and 28-day medians."""
    return 0.5 * (_trailing(y, 7, "median") + _trailing(y, 28, "median")) + LEVEL_FLOOR


@dataclass(frozen=True)
class FeatureSet:
    names: tuple[str, ...]
    values: np.ndarray  # (F, K, D): features for origin o (index D)
    level: np.ndarray  # (K, D)
    mean7: np.ndarray  # (K, D)
    mean28: np.ndarray  # (K, D)
    categorical: tuple[int, ...]


def feature_set(panel: Panel, config: ForecastConfig, horizon: int) -> FeatureSet:
    y = panel.total
    n_terms, n_days = y.shape
    mean = {w: trailing_mean(y, w) for w in sorted({*config.windows, 7, 28})}
    level = level_of(y)
    names: list[str] = []
    columns: list[np.ndarray] = []

    def add(name: str, value: np.ndarray) -> None:
        names.append(name)
        columns.append(np.broadcast_to(value, (n_terms, n_days)).astype(np.float64))

    add("log_level", np.log(level))
    lags = sorted({lag if lag >= horizon else horizon for lag in config.lags})
    for lag in lags:
        # Target-relative lag: y[t - lag] with t = o + horizon, i.e. y[o - (lag - horizon)].
        add(f"lag_{lag}", shift(y, lag - horizon) / level)
    for w in config.windows:
        add(f"mean_{w}", mean[w] / level)
    add("mean_7_over_28", (mean[7] + LEVEL_FLOOR) / (mean[28] + LEVEL_FLOOR))
    add(f"mean_{TERM_WINDOW}", trailing_mean(y, TERM_WINDOW) / level)

    posted = y > 0
    idx = np.arange(n_days)
    seen = np.maximum.accumulate(np.where(posted, idx, -1), axis=1)
    first_seen = np.where(posted.any(axis=1), posted.argmax(axis=1), n_days)[:, None]
    add("days_since_last_post", np.where(seen >= 0, np.minimum(idx - seen, CAP_DAYS), CAP_DAYS))
    add("term_age_days", np.clip(idx[None, :] - first_seen, -1, CAP_DAYS))
    add("zero_share_28", 1.0 - trailing_mean(posted.astype(np.float64), 28))

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
            add(f"{platform}_mean_7", trailing_mean(series, 7) / level)

    if panel.search_interest is not None:
        interest = panel.search_interest
        base = _trailing(interest, 28, "mean") + 1.0
        add("search_interest_today_vs_28", (interest + 1.0) / base)
        add("search_interest_7_vs_28", (_trailing(interest, 7, "mean") + 1.0) / base)
    return FeatureSet(tuple(names), np.stack(columns), level, mean[7], mean[28], categorical)


def feature_rows(features: FeatureSet, origins: np.ndarray) -> np.ndarray:
    """Feature matrix for every term at each origin index: shape (len(origins) * K, F)."""
    block = features.values[:, :, origins]  # (F, K, O)
    return block.transpose(2, 1, 0).reshape(-1, block.shape[0])
