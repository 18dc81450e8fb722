"""Sustained moderate rises: a CUSUM of the term's standardised log-residuals.

The hourly test of :mod:`kedah_analytics.trends.burst` finds sharp bursts; a rise to 1.5-2.5 times
the expected count that lasts several hours is improbable in no single hour or 3-hour window of
an overdispersed series, so it passes unseen. A cumulative sum sees it: evidence that is weak
each hour adds up while the rise lasts.

For each hour, from the term's own past only:

- the log-residual ``r = log((x + 1) / (mu + 1))`` against the expected count ``mu``;
- standardised: ``z = (r - centre) / sigma``, with ``centre`` the mean of the term's residuals of
  the last ``dispersion_days`` (so that calm hours add about 0 on average, also for a small
  term whose residuals take a few discrete values) and ``sigma`` the residual's spread under the
  hourly test's negative binomial (its rate's dispersion and the Poisson part);
- winsorised at ``sustained_cap`` (2) sigma, so one spike (the hourly test's business) cannot
  carry the sum, and only a run of raised hours can;
- summed as a one-sided CUSUM with reference ``sustained_reference`` (1 sigma, the classic half of
  a 2-sigma shift): ``S_t = max(0, S_{t-1} + z_t - k)``.

With the cap at 2 and the reference at 1, each hour adds at most 1, so ``S`` reaches the decision
level ``sustained_threshold`` (5, the textbook CUSUM value) after at least five raised hours:
"sustained" is built into the statistic. The hour flags when ``S`` reaches it, the posts of the
current run (the hours since ``S`` was last 0) are at least ``1 + sustained_min_rise`` (1.5) times
their expected count and at least ``min_count``, and the hour itself is busier than expected.
"""

from __future__ import annotations

import numpy as np

from kedah_analytics.trends.burst_baseline import HOURS_PER_DAY, BurstConfig, past_rolling


def standardised_residuals(
    grid: np.ndarray, mu: np.ndarray, rate_cv2: np.ndarray, config: BurstConfig
) -> np.ndarray:
    """``(r - centre) / sigma`` of each cell's log-residual ``r = log((x + 1) / (mu + 1))``.

    ``sigma`` is the residual's spread under the hourly test's negative binomial, by the delta
    method: ``(mu^2 * v + mu) / (mu + 1)^2`` with ``v`` the squared coefficient of variation of
    the hour's rate (the baselines' uncertainty plus the term's robust dispersion). The Poisson part
    matters for small terms, whose residuals' interquartile range alone is too narrow (a term with
    0.3 posts an hour has residuals of a few discrete values). The centre is the median of the
    term's past residuals (its bias: the log of a count is smaller than the log of its mean). NaN
    where ``v`` is (before ``min_history_hours``)."""
    window = config.dispersion_days * HOURS_PER_DAY
    residual = np.log((grid + 1.0) / (mu + 1.0))
    centre = past_rolling(residual, window, config.min_history_hours, "mean")
    sigma = np.sqrt((mu * mu * rate_cv2 + mu) / (mu + 1.0) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(sigma > 0, (residual - centre) / sigma, np.nan)
    return np.asarray(z)


def sustained_rise(
    grid: np.ndarray, mu: np.ndarray, rate_cv2: np.ndarray, config: BurstConfig
) -> tuple[np.ndarray, np.ndarray]:
    """The CUSUM statistic of every cell and whether it flags a sustained rise (see the module
    docstring). Hours without a standardised residual add nothing and flag nothing."""
    if config.sustained_threshold is None:
        raise ValueError("the sustained-rise test is off (sustained_threshold is None)")
    threshold = config.sustained_threshold
    z = standardised_residuals(grid, mu, rate_cv2, config)
    known = np.isfinite(z)
    step = np.where(known, np.minimum(z, config.sustained_cap), 0.0) - config.sustained_reference
    statistic = np.zeros(grid.shape)
    run_count = np.zeros(grid.shape)
    run_expected = np.zeros(grid.shape)
    s = np.zeros(grid.shape[0])
    posts = np.zeros(grid.shape[0])
    expected = np.zeros(grid.shape[0])
    for t in range(grid.shape[1]):
        s = s + np.where(known[:, t], step[:, t], 0.0)
        ended = s <= 0
        s[ended] = 0.0
        posts = np.where(ended, 0.0, posts + grid[:, t])
        expected = np.where(ended, 0.0, expected + mu[:, t])
        statistic[:, t] = s
        run_count[:, t] = posts
        run_expected[:, t] = expected
    fired = (
        known
        & (statistic >= threshold)
        & (run_count >= (1.0 + config.sustained_min_rise) * run_expected)
        & (run_count >= config.min_count)
        & (grid > mu)
    )
    return statistic, fired
