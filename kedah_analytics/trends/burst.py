"""Burst detection: is a term's count in this hour the start of a burst, given only its past.

Model
-----
Counts live on one global hourly grid that starts at the earliest timestamp in the input (any
term) and ends at the latest; an hour with no row is an hour with 0 posts (the counts table omits
zero rows), so a term that first appears late has zeros before it. Hours are Kedah's: timestamps
with a time zone are converted, naive ones are read as Kedah time.

Expected count. For term ``k`` at hour ``t`` the expected count ``mu`` is the term's recent level
times its hour-of-day profile, both strictly from before ``t``: the profile is the same Kedah hour
on each of the last 28 days against the term's rate over those 28 days, and the level is the
posts of the last ``level_hours`` (24) hours against what the profile expected in them, so a
level shift (a term that has become twice as popular this week) is followed within a day. Each
rate is a Gamma-Poisson posterior ``(S + c) / (n + c / parent)`` (``S`` posts in ``n`` hours,
prior strength ``c`` pseudo-posts) shrunk towards the broader one, so a rate backed by few posts
stays near its parent (the overall rate near ``prior_rate``), and ``1 / (S + c)`` is its squared
relative uncertainty.

Past bursts do not raise the baseline: before the rates are summed, each past hour is capped at
``clip_factor`` (3) times the median of the same hour on the ``clip_days`` (7) days before it,
plus ``clip_floor`` (5) posts, so one outage-day spike does not make the next four weeks'
expectation wrong. This baseline was chosen over the earlier same-weekday-and-hour cells (four
samples each, which a single past spike doubled) because it predicts the real calibration
series' hourly counts better, by the spread of its log-residuals; the labelled windows played no
part in choosing it.

Dispersion, from the term's own past. Real volume is far more variable than Poisson (news days,
campaigns, outages). Each past hour leaves a residual ``log((x + 1) / (mu + 1))``; the spread of
the residuals of the last ``dispersion_days`` (28) days, measured robustly as the interquartile
range over 1.349 (a normal's sigma), is the term's own variability. It ignores the top and bottom
quarter of hours, so past bursts do not inflate it. Less the part that Poisson noise explains
(the median over the same hours of ``mu / (mu + 1)^2``), it is the squared coefficient of
variation of the hour's rate; added to the baselines' uncertainty, its inverse is the shape of a
Gamma rate, hence a negative-binomial predictive distribution for the count.

Score. ``-log10 P(X >= x)`` under that distribution (0 for a count of 0, capped at 300), the
maximum over trailing windows of 1 and 3 hours (the hour itself, and with the two before it, so
a sustained moderate rise is seen as early as a sharp one). The score is missing (NaN, with
``score_reason``) for the first ``min_history_hours`` (72) hours of the grid: there is no past
to measure the term's variability on.

Alert. An hour raises an alert (``is_trending``) when, for some window, the score is at least
``threshold`` (6, p <= 1e-6: with 1,000 terms x 24 hours x 2 windows a day a calibrated model
then raises one chance alert in about 20 days, and real tails are heavier than the model's),
the window holds at least ``min_count`` posts (5: a rare or new term's two posts may be
improbable, but they are not a trend) and at least ``1 + min_rise`` times its expected count (2x:
a statistically sure 20 % rise of a big term is not a burst); the hour itself is busier than
expected; and the term raised no alert in the ``cooldown_hours`` (24) before, so one burst is
one alert and not twenty consecutive hourly flags. ``is_above_threshold`` (with ``details``)
keeps the per-hour test without the cooldown.

On the five real calibration series (``bench/bench_trends_real.py``) and on generated series
(the tests), figures are in the README. Nothing after ``t`` enters the score or the alert of
``t``: scoring a prefix of the data gives the same scores and alerts for its rows as scoring all
of it (tests check this).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from kedah_analytics.domain import TIMEZONE_NAME as KEDAH_TZ

HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168
MAX_SCORE = 300.0
IQR_TO_SIGMA = 1.349  # interquartile range of a standard normal


@dataclass(frozen=True)
class BurstConfig:
    """Knobs of the burst detector; the defaults are the documented ones."""

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
    threshold: float = 6.0
    min_count: float = 5.0
    min_rise: float = 1.0
    cooldown_hours: int = 24
    min_history_hours: int = 72
    windows: tuple[int, ...] = (1, 3)
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


BURST_COLUMNS: tuple[str, ...] = ("term", "timestamp", "score", "score_reason", "is_trending")


def no_history_reason(config: BurstConfig) -> str:
    return f"fewer than {config.min_history_hours} hours of counts before this hour"


def kedah_hour_index(timestamps: pd.Series) -> np.ndarray:
    """Whole hours since the epoch in Kedah local time (naive times are read as Kedah time)."""
    ts = pd.to_datetime(timestamps, errors="raise")
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert(KEDAH_TZ).dt.tz_localize(None)
    if ts.isna().any():
        first = int(np.flatnonzero(ts.isna().to_numpy())[0])
        raise ValueError(f"timestamp is missing at row {first}")
    seconds = ts.to_numpy().astype("datetime64[s]").astype(np.int64)
    return np.asarray(np.floor_divide(seconds, 3600))


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


def past_rolling(values: np.ndarray, window: int, min_periods: int, how: float | str) -> np.ndarray:
    """Per row, a quantile (``how`` in 0..1) or ``"median"`` of the ``window`` values strictly
    before each position; NaN where fewer than ``min_periods`` are there."""
    rolling = pd.DataFrame(values.T).rolling(window, min_periods=min_periods)
    out = rolling.median() if how == "median" else rolling.quantile(float(how))
    return np.asarray(out.shift(1).to_numpy(dtype=np.float64).T)


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


def _cooldown(fired: np.ndarray, hours: int) -> np.ndarray:
    """Keep a fired cell only if its row raised no kept alert in the ``hours`` before it."""
    alerts = np.zeros_like(fired)
    for row in np.flatnonzero(fired.any(axis=1)):
        last = -hours
        for t in np.flatnonzero(fired[row]):
            if t - last >= hours:
                alerts[row, t] = True
                last = int(t)
    return alerts


def _score_grid(grid: np.ndarray, config: BurstConfig) -> dict[str, np.ndarray]:
    """Score, alert and above-threshold flags for every cell of a (terms x hours) grid."""
    mu, cv2 = expected_counts(grid, config)
    dispersion = robust_dispersion(grid, mu, config)
    known = np.isfinite(dispersion)
    shape = 1.0 / (cv2 + np.where(known, dispersion, 0.0))
    best = np.zeros(grid.shape)
    fired = np.zeros(grid.shape, dtype=bool)
    for window in config.windows:
        if window == 1:
            x_w, mu_w = grid, mu
        else:
            # Trailing window ending at the hour itself: still nothing after it.
            x_w = grid + lagged_window_sum(grid, 1, window - 1)
            mu_w = mu + lagged_window_sum(mu, 1, window - 1)
        tail = negbin_upper_tail(x_w.reshape(-1), shape.reshape(-1), (shape / mu_w).reshape(-1))
        score_w = -np.log10(np.maximum(tail, 10.0**-MAX_SCORE)).reshape(grid.shape)
        best = np.maximum(best, score_w)
        fired |= (
            (score_w >= config.threshold)
            & (x_w >= config.min_count)
            & (x_w >= (1.0 + config.min_rise) * mu_w)
        )
    # The hour itself must be busier than usual: no flag on a quiet hour after a burst.
    fired &= known & (grid > mu)
    score = np.where(known, np.minimum(best, MAX_SCORE) + 0.0, np.nan)
    return {
        "score": score,
        "above": fired,
        "alert": _cooldown(fired, config.cooldown_hours),
        "expected": mu,
    }


def detect_bursts(
    counts: pd.DataFrame,
    config: BurstConfig | None = None,
    *,
    details: bool = False,
) -> pd.DataFrame:
    """Score every ``(term, timestamp, count)`` row against its own past.

    Timestamps are floored to the hour; naive ones are read as Kedah time. Rows that share a
    term and hour are one cell (their counts add up, e.g. one row per platform) and get that
    cell's score. Returns one row per input row, in input order: ``term, timestamp, score,
    score_reason, is_trending`` (plus ``count``, ``expected`` and ``is_above_threshold`` with
    ``details=True``). ``score`` is NaN exactly where ``score_reason`` says why.
    """
    config = config or BurstConfig()
    missing = [c for c in ("term", "timestamp", "count") if c not in counts.columns]
    if missing:
        raise ValueError(f"burst input lacks the columns {missing}")
    n_rows = len(counts)
    if n_rows == 0:
        out = pd.DataFrame({c: [] for c in BURST_COLUMNS})
        return out.astype({"score": "float64", "score_reason": "object", "is_trending": "bool"})

    values = pd.to_numeric(counts["count"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(values) | (values < 0)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"count must be a finite number >= 0; row {first} has {counts['count'].iloc[first]!r}"
        )
    if counts["term"].isna().any():
        raise ValueError(f"term is missing at row {int(np.flatnonzero(counts['term'].isna())[0])}")

    hours = kedah_hour_index(counts["timestamp"])
    hour_pos = (hours - int(hours.min())).astype(np.int64)
    length = int(hour_pos.max()) + 1
    codes, _ = pd.factorize(counts["term"], sort=False)
    n_terms = int(codes.max()) + 1

    score = np.zeros(n_rows)
    expected = np.zeros(n_rows)
    cell_count = np.zeros(n_rows)
    trending = np.zeros(n_rows, dtype=bool)
    above = np.zeros(n_rows, dtype=bool)
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(0, n_terms, config.chunk_terms))
    ends = np.append(starts[1:], n_rows)
    for lo_code, lo, hi in zip(range(0, n_terms, config.chunk_terms), starts, ends, strict=True):
        rows = order[lo:hi]
        local = codes[rows] - lo_code
        width = int(local.max()) + 1
        flat = local * length + hour_pos[rows]
        grid = np.bincount(flat, weights=values[rows], minlength=width * length).reshape(width, length)
        scored = _score_grid(grid, config)
        score[rows] = scored["score"].reshape(-1)[flat]
        expected[rows] = scored["expected"].reshape(-1)[flat]
        cell_count[rows] = grid.reshape(-1)[flat]
        trending[rows] = scored["alert"].reshape(-1)[flat]
        above[rows] = scored["above"].reshape(-1)[flat]

    reason = pd.Series(None, index=range(n_rows), dtype="object")
    reason[np.isnan(score)] = no_history_reason(config)
    out = pd.DataFrame(
        {
            "term": counts["term"].reset_index(drop=True),
            "timestamp": counts["timestamp"].reset_index(drop=True),
            "score": score,
            "score_reason": reason,
            "is_trending": trending,
        }
    )
    if details:
        out["count"] = cell_count
        out["expected"] = expected
        out["is_above_threshold"] = above
    return out
