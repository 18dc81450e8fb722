"""The expected count of a term's hour and its dispersion, both from the term's own past.

The model is described in :mod:`kedah_analytics.trends.burst`; this module holds its arithmetic:
windowed sums over the past, the capped counts the baselines learn from, the Gamma-Poisson
level x hour-of-day profile, and the robust dispersion of the log-residuals. Nothing after an
hour enters its expected count or its dispersion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.indexers import BaseIndexer

HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168
IQR_TO_SIGMA = 1.349  # interquartile range of a standard normal


@dataclass(frozen=True)
class BurstConfig:
    """Knobs of the burst detector; the defaults are the documented ones (see
    :mod:`kedah_analytics.trends.burst`)."""

    days: int = 28
    overall_days: int = 28
    level_hours: int = 24
    level_prior_posts: float = 50.0
    hour_prior_posts: float = 3.0
    overall_prior_posts: float = 1.0
    prior_rate: float = 0.05  # posts/hour assumed for a term never seen before
    clip_days: int = 7
    clip_factor: float = 3.0
    clip_floor: float = 5.0
    dispersion_days: int = 28
    threshold: float = 7.0
    min_count: float = 5.0
    min_rise: float = 1.0
    cooldown_hours: int = 24
    min_history_hours: int = 72
    windows: tuple[int, ...] = (1, 3)
    # Sustained moderate rises (kedah_analytics.trends.sustained): a CUSUM of standardised
    # log-residuals; sustained_threshold None turns it off.
    sustained_threshold: float | None = 5.0
    sustained_reference: float = 1.0
    sustained_cap: float = 2.0
    sustained_min_rise: float = 0.5
    chunk_terms: int = 256

    def __post_init__(self) -> None:
        if min(self.days, self.overall_days, self.level_hours, self.clip_days, self.dispersion_days) < 1:
            raise ValueError(
                "days, overall_days, level_hours, clip_days and dispersion_days must be at least 1"
            )
        if min(self.level_prior_posts, self.hour_prior_posts, self.overall_prior_posts) <= 0:
            raise ValueError("prior strengths must be positive")
        if self.clip_factor < 1 or self.clip_floor < 0:
            raise ValueError("clip_factor must be >= 1 and clip_floor >= 0")
        if self.prior_rate <= 0:
            raise ValueError("prior_rate must be positive")
        if self.min_rise < 0 or self.cooldown_hours < 1 or self.min_history_hours < 2:
            raise ValueError("min_rise must be >= 0, cooldown_hours >= 1 and min_history_hours >= 2")
        if not self.windows or min(self.windows) < 1:
            raise ValueError("windows must be whole hours >= 1")
        if self.sustained_threshold is not None and (
            self.sustained_threshold <= 0
            or self.sustained_reference <= 0
            or self.sustained_cap <= self.sustained_reference
            or self.sustained_min_rise < 0
        ):
            raise ValueError(
                "sustained_threshold and sustained_reference must be positive, sustained_cap above "
                "sustained_reference and sustained_min_rise >= 0"
            )


def lagged_window_sum(grid: np.ndarray, stride: int, count: int) -> np.ndarray:
    """``out[..., t] = sum(grid[..., t - j*stride] for j in 1..count if t - j*stride >= 0)``.

    Only the past of ``t`` enters ``out[..., t]``. Works on the last axis via a cumulative sum
    over periods of ``stride`` hours, so its cost does not grow with ``count``.
    """
    lead, length = grid.shape[:-1], grid.shape[-1]
    periods = -(-length // stride)
    padded = np.zeros((*lead, periods * stride), dtype=np.float64)
    padded[..., :length] = grid
    by_period = padded.reshape(*lead, periods, stride)
    cumulative = np.zeros((*lead, periods + 1, stride), dtype=np.float64)
    np.cumsum(by_period, axis=-2, out=cumulative[..., 1:, :])
    q = np.arange(periods)
    out = cumulative[..., q, :] - cumulative[..., np.maximum(q - count, 0), :]
    return np.asarray(out.reshape(*lead, periods * stride)[..., :length])


class _PastOfEachRow(BaseIndexer):
    """Windows over rows laid end to end: position ``t`` of a row of ``length`` covers the
    ``window_size`` positions of that row strictly before ``t``."""

    def __init__(self, window_size: int, length: int) -> None:
        super().__init__(window_size=window_size)
        self.length = length

    def get_window_bounds(
        self,
        num_values: int = 0,
        min_periods: int | None = None,
        center: bool | None = None,
        closed: str | None = None,
        step: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        index = np.arange(num_values, dtype=np.int64)
        row_start = index - index % self.length
        return np.maximum(index - self.window_size, row_start), index


def past_rolling(values: np.ndarray, window: int, min_periods: int, how: float | str) -> np.ndarray:
    """Per row, a quantile (``how`` in 0..1), ``"median"`` or ``"mean"`` of the ``window`` values
    strictly before each position; NaN where fewer than ``min_periods`` are there.

    The rows run end to end as one series whose windows stop at the row's start, rather than one
    pandas column each: pandas' cost per column dominated for many short rows. The numbers are
    the same: pandas' rolling starts afresh where a window does not overlap the one before (a
    row's start), and within a row adds and drops the same values in the same order."""
    values = np.asarray(values, dtype=np.float64)
    rows, length = values.shape
    rolling = pd.Series(values.reshape(-1)).rolling(_PastOfEachRow(window, length), min_periods=min_periods)
    if how == "median":
        out = rolling.median()
    elif how == "mean":
        out = rolling.mean()
    else:
        out = rolling.quantile(float(how))
    return np.asarray(out.to_numpy(dtype=np.float64).reshape(rows, length))


def negbin_upper_tail(count: np.ndarray, shape: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """``P(X >= count)`` for the Gamma(shape, rate)-Poisson mixture (negative binomial)."""
    count = np.asarray(count, dtype=np.float64)
    out = np.ones_like(count)
    positive = count > 0
    # P(X >= x) = I_{1-p}(x, r) with p = rate / (rate + 1): the regularized incomplete beta.
    from scipy import special  # SciPy loads when bursts are scored, not with the code location

    out[positive] = special.betainc(count[positive], shape[positive], 1.0 / (rate[positive] + 1.0))
    return out


def same_hour_median(grid: np.ndarray, days: int) -> np.ndarray:
    """Per cell, the median of the same hour of day on the ``days`` days before it (NaN on the
    first day)."""
    width, length = grid.shape
    n_days = -(-length // HOURS_PER_DAY)
    padded = np.zeros((width, n_days * HOURS_PER_DAY))
    padded[:, :length] = grid
    # One row per (term, hour of day), one column per day: the rolling median runs along days.
    by_hour = padded.reshape(width, n_days, HOURS_PER_DAY).transpose(0, 2, 1).reshape(-1, n_days)
    median = past_rolling(by_hour, days, 1, "median")
    back = median.reshape(width, HOURS_PER_DAY, n_days).transpose(0, 2, 1).reshape(width, -1)
    return np.asarray(back[:, :length])


def capped_counts(grid: np.ndarray, config: BurstConfig) -> np.ndarray:
    """The counts with each hour capped at ``clip_factor`` times the median of the same hour on
    the ``clip_days`` days before it, plus ``clip_floor``: what the baselines learn from, so a
    past burst does not raise the expectation of the weeks after it."""
    ceiling = config.clip_factor * same_hour_median(grid, config.clip_days) + config.clip_floor
    return np.minimum(grid, np.where(np.isfinite(ceiling), ceiling, np.inf))


def expected_counts(grid: np.ndarray, config: BurstConfig) -> tuple[np.ndarray, np.ndarray]:
    """Expected count of each cell from its past, and the squared relative uncertainty of it.

    The term's recent level (last ``level_hours``) times its hour-of-day profile (last ``days``
    days), from the capped counts. Each rate is a Gamma-Poisson posterior whose prior mean is the
    broader rate and whose prior strength is a number of pseudo-posts, so a rate with few posts
    behind it stays close to its parent; the squared coefficients of variation add up.
    """
    capped = capped_counts(grid, config)
    ones = np.ones((1, grid.shape[-1]))
    overall_hours = config.overall_days * HOURS_PER_DAY
    n_hour = lagged_window_sum(ones, HOURS_PER_DAY, config.days)[0]
    n_all = lagged_window_sum(ones, 1, overall_hours)[0]
    s_hour = lagged_window_sum(capped, HOURS_PER_DAY, config.days)
    s_all = lagged_window_sum(capped, 1, overall_hours)
    s_recent = lagged_window_sum(capped, 1, config.level_hours)
    c_level, c_hour, c_all = config.level_prior_posts, config.hour_prior_posts, config.overall_prior_posts
    rate = (s_all + c_all) / (n_all + c_all / config.prior_rate)
    hour_rate = (s_hour + c_hour) / (n_hour + c_hour / rate)
    profile = hour_rate / rate
    # Posts the profile expected in the last level_hours, at a level of one: the level is the
    # ratio of what came to that, shrunk towards the 28-day rate.
    profile_recent = lagged_window_sum(profile, 1, config.level_hours)
    level = (s_recent + c_level) / (profile_recent + c_level / rate)
    cv2 = 1.0 / (s_all + c_all) + 1.0 / (s_hour + c_hour) + 1.0 / (s_recent + c_level)
    return level * profile, cv2


def robust_dispersion(grid: np.ndarray, mu: np.ndarray, config: BurstConfig) -> np.ndarray:
    """Squared coefficient of variation of each cell's rate beyond Poisson, from the interquartile
    range of the term's past log-residuals (NaN before ``min_history_hours``)."""
    window = config.dispersion_days * HOURS_PER_DAY
    residual = np.log((grid + 1.0) / (mu + 1.0))
    q1 = past_rolling(residual, window, config.min_history_hours, 0.25)
    q3 = past_rolling(residual, window, config.min_history_hours, 0.75)
    poisson = past_rolling(mu / (mu + 1.0) ** 2, window, config.min_history_hours, "median")
    return np.asarray(np.maximum(((q3 - q1) / IQR_TO_SIGMA) ** 2 - poisson, 0.0))
