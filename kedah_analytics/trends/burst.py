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
a short rise is seen as early as a sharp one). The score is missing (NaN, with
``score_reason``) for the first ``min_history_hours`` (72) hours of the grid: there is no past
to measure the term's variability on.

Sustained rises. A rise to 1.5-2.5 times the expected count that lasts several hours is
improbable in no single hour or 3-hour window, so the hourly score misses it. A CUSUM of the
hours' standardised log-residuals under the same negative binomial (``kedah_analytics.trends.
sustained``: each hour winsorised at 2 sigma, reference 1 sigma, decision level 5, so at least
five raised hours) adds up that weak evidence; it flags an hour when its run of raised hours
holds at least 1.5 times the expected posts (``sustained_min_rise``) and ``min_count``.

Alert. An hour raises an alert (``is_trending``) when, for some window, the score is at least
``threshold`` (7, p <= 1e-7: with 1,000 terms x 24 hours x 2 windows a day a calibrated model
then raises one chance alert in about 200 days, and real tails are heavier than the model's),
the window holds at least ``min_count`` posts (5: a rare or new term's two posts may be
improbable, but they are not a trend) and at least ``1 + min_rise`` times its expected count (2x:
a statistically sure 20 % rise of a big term is not a burst), or when the CUSUM flags a
sustained rise; the hour itself is busier than expected; and the term raised no alert in the
``cooldown_hours`` (24) before, so one burst is one alert and not twenty consecutive hourly
flags. ``is_above_threshold`` (with ``details``) keeps the per-hour test without the cooldown,
and ``sustained`` the CUSUM statistic.

The threshold was 6 before the CUSUM came; with the CUSUM finding the sustained rises, 7 keeps
false alarms on the calibration series under 5 per 1,000 series-hours (``bench/bench_trends_real.py
--sweep`` prints the curve of windows found against false alarms over both settings).

On the five real calibration series (``bench/bench_trends_real.py``) and on generated series
(the tests), figures are in the README. Nothing after ``t`` enters the score or the alert of
``t``: scoring a prefix of the data gives the same scores and alerts for its rows as scoring all
of it (tests check this).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kedah_analytics.domain import TIMEZONE_NAME as KEDAH_TZ
from kedah_analytics.trends.burst_baseline import (
    HOURS_PER_DAY,
    HOURS_PER_WEEK,
    IQR_TO_SIGMA,
    BurstConfig,
    capped_counts,
    expected_counts,
    lagged_window_sum,
    negbin_upper_tail,
    past_rolling,
    robust_dispersion,
    same_hour_median,
)
from kedah_analytics.trends.sustained import sustained_rise

__all__ = [  # the detector, and the model's parts that tests and benchmarks read from here
    "BURST_COLUMNS",
    "HOURS_PER_DAY",
    "HOURS_PER_WEEK",
    "IQR_TO_SIGMA",
    "MAX_SCORE",
    "BurstConfig",
    "capped_counts",
    "detect_bursts",
    "expected_counts",
    "kedah_hour_index",
    "lagged_window_sum",
    "negbin_upper_tail",
    "no_history_reason",
    "past_rolling",
    "robust_dispersion",
    "same_hour_median",
    "score_grid",
]

MAX_SCORE = 300.0

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


def _score_grid(grid: np.ndarray, config: BurstConfig, every_score: bool = True) -> dict[str, np.ndarray]:
    """Score, alert and above-threshold flags for every cell of a (terms x hours) grid; with
    ``every_score`` False, the score only of the cells that can raise an alert (NaN elsewhere)."""
    mu, cv2 = expected_counts(grid, config)
    dispersion = robust_dispersion(grid, mu, config)
    known = np.isfinite(dispersion)
    shape = 1.0 / (cv2 + np.where(known, dispersion, 0.0))
    # The hour itself must be busier than usual: no flag on a quiet hour after a burst.
    busier = known & (grid > mu)
    windows = []
    for window in config.windows:
        if window == 1:
            x_w, mu_w = grid, mu
        else:
            # Trailing window ending at the hour itself: still nothing after it.
            x_w = grid + lagged_window_sum(grid, 1, window - 1)
            mu_w = mu + lagged_window_sum(mu, 1, window - 1)
        windows.append((x_w, mu_w, (x_w >= config.min_count) & (x_w >= (1.0 + config.min_rise) * mu_w)))
    if config.sustained_threshold is not None:
        rate_cv2 = np.where(known, cv2 + np.where(known, dispersion, 0.0), np.nan)
        cusum, sustained = sustained_rise(grid, mu, rate_cv2, config)
        sustained &= known
    else:
        cusum, sustained = np.zeros(grid.shape), np.zeros(grid.shape, dtype=bool)
    # A cell's tail probability depends on no other cell's: those that cannot fire can go unscored.
    scored = None if every_score else busier & np.logical_or.reduce([w[2] for w in windows]) | sustained
    best = np.zeros(grid.shape)
    fired = np.zeros(grid.shape, dtype=bool)
    for x_w, mu_w, rise in windows:
        if scored is None:
            tail = negbin_upper_tail(x_w.reshape(-1), shape.reshape(-1), (shape / mu_w).reshape(-1))
            score_w = -np.log10(np.maximum(tail, 10.0**-MAX_SCORE)).reshape(grid.shape)
        else:
            tail = negbin_upper_tail(x_w[scored], shape[scored], shape[scored] / mu_w[scored])
            score_w = np.zeros(grid.shape)
            score_w[scored] = -np.log10(np.maximum(tail, 10.0**-MAX_SCORE))
        best = np.maximum(best, score_w)
        fired |= (score_w >= config.threshold) & rise
    fired &= busier
    fired |= sustained
    score = np.where(known if scored is None else scored, np.minimum(best, MAX_SCORE) + 0.0, np.nan)
    return {
        "score": score,
        "above": fired,
        "alert": _cooldown(fired, config.cooldown_hours),
        "expected": mu,
        "sustained": np.where(known, cusum, np.nan),
    }


def score_grid(
    grid: np.ndarray, config: BurstConfig | None = None, *, every_score: bool = True
) -> dict[str, np.ndarray]:
    """The detector on a (series x hours) grid of counts whose column 0 is each row's first hour:
    ``score``, ``alert`` (``is_trending``), ``above`` (``is_above_threshold``), ``expected`` and
    ``sustained`` per cell. Rows are independent, and a cell depends only on the cells before it
    in its row, so rows of different origins and lengths can share a grid (zeros after a row's end
    change none of its cells): what :func:`detect_bursts` gives for a series with that origin.
    With ``every_score`` False, ``score`` is worked out (the costly part) only where a cell can
    fire, and is NaN elsewhere; the other outputs are the same."""
    return _score_grid(np.asarray(grid, dtype=np.float64), config or BurstConfig(), every_score)


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
    sustained = np.zeros(n_rows)
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
        sustained[rows] = scored["sustained"].reshape(-1)[flat]

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
        out["sustained"] = sustained
    return out
