"""The sustained-rise CUSUM: a moderate rise that lasts is found, noise and short rises are not."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_burst import _overdispersed

from kedah_analytics.trends.burst import BurstConfig, detect_bursts, expected_counts, robust_dispersion
from kedah_analytics.trends.sustained import standardised_residuals, sustained_rise

HOUR = pd.Timedelta(hours=1)
N_TERMS, N_DAYS = 12, 42
RISE_AT = 32 * 24 + 9  # 09:00 on day 32: four weeks of past to learn from


def _calm(seed: int) -> pd.DataFrame:
    """Overdispersed hourly volume around a steady level (5-500 posts an hour, a daily profile):
    each hour's rate Gamma with a coefficient of variation of 0.14, every day alike.

    Day-to-day level changes are left out on purpose: a day at 1.5 times the one before is a
    sustained moderate rise, what the CUSUM is meant to find, not noise. (With far noisier hours a
    twofold rise is lost in any one term's noise; the calibration series are the real test.)"""
    return _overdispersed(seed=seed, n_terms=N_TERMS, n_days=N_DAYS, hour_shape=50.0, day_shape=1e6)


def _with_rise(counts: pd.DataFrame, factor: float, hours: int) -> pd.DataFrame:
    grid = counts["count"].to_numpy(dtype=float).reshape(N_TERMS, -1)
    risen = grid.copy()
    risen[:, RISE_AT : RISE_AT + hours] = np.round(risen[:, RISE_AT : RISE_AT + hours] * factor)
    return counts.assign(count=risen.reshape(-1))


def _flags(counts: pd.DataFrame, config: BurstConfig) -> np.ndarray:
    return detect_bursts(counts, config)["is_trending"].to_numpy().reshape(N_TERMS, -1)


def _sustained(counts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    grid = counts["count"].to_numpy(dtype=float).reshape(N_TERMS, -1)
    config = BurstConfig()
    mu, cv2 = expected_counts(grid, config)
    return sustained_rise(grid, mu, cv2 + robust_dispersion(grid, mu, config), config)


def test_a_sustained_twofold_rise_is_found_by_the_cusum():
    span = slice(RISE_AT, RISE_AT + 10)
    found = found_without = 0
    first_sustained = []
    for seed in (41, 42, 43, 44):
        counts = _with_rise(_calm(seed), 2.0, 10)
        found += _flags(counts, BurstConfig())[:, span].any(axis=1).sum()
        found_without += _flags(counts, BurstConfig(sustained_threshold=None))[:, span].any(axis=1).sum()
        statistic, fired = _sustained(counts)
        calm_before = statistic[:, RISE_AT - 1] == 0
        first_sustained += [int(np.flatnonzero(row)[0]) for row in fired[calm_before, span] if row.any()]
    # Ten hours at twice the expected count on 48 terms: the hourly test alone finds few, the
    # CUSUM most.
    assert found >= 0.6 * 4 * N_TERMS, (found, found_without)
    assert found >= found_without + 0.4 * 4 * N_TERMS, (found, found_without)
    # Each hour adds at most cap - reference = 1 to the statistic, so from a calm start the CUSUM
    # flags from the rise's fifth hour on.
    assert min(first_sustained) >= 4 and np.median(first_sustained) <= 7, first_sustained


def test_noise_alone_raises_no_sustained_alarm():
    alarms = hours = 0
    for seed in (43, 44, 45, 46):
        statistic, fired = _sustained(_calm(seed))
        alarms += fired.sum()
        hours += fired.size
        # The statistic does move (it is not switched off) ...
        assert np.nanmax(statistic) > 1.0
    # ... and stays below the decision level nearly always: under one flag per 4,000 term-hours.
    assert alarms / hours <= 0.00025, (alarms, hours)


def test_a_short_rise_is_left_to_the_hourly_test():
    for seed in (41, 42):
        _, fired = _sustained(_with_rise(_calm(seed), 2.0, 4))
        assert not fired[:, RISE_AT : RISE_AT + 6].any()


def test_small_terms_do_not_accumulate_poisson_noise():
    # 0.3 posts an hour, Poisson: residuals take a few discrete values whose interquartile range
    # alone is too narrow; the Poisson part of the spread keeps the CUSUM quiet.
    rng = np.random.default_rng(46)
    hours = pd.date_range("2026-09-01", periods=N_DAYS * 24, freq="h", tz="Asia/Kuala_Lumpur")
    counts = pd.DataFrame(
        {
            "term": np.repeat([f"s{i:02d}" for i in range(30)], len(hours)),
            "timestamp": np.tile(hours, 30),
            "count": rng.poisson(0.3, size=30 * len(hours)),
        }
    )
    flags = detect_bursts(counts, details=True)
    assert not flags["is_trending"].any()
    assert (flags["sustained"].fillna(0) < BurstConfig().sustained_threshold).all()


def test_standardised_residuals_are_about_unit_spread_on_model_noise():
    counts = _calm(47)
    grid = counts["count"].to_numpy(dtype=float).reshape(N_TERMS, -1)
    config = BurstConfig()
    mu, cv2 = expected_counts(grid, config)
    z = standardised_residuals(grid, mu, cv2 + robust_dispersion(grid, mu, config), config)
    z = z[np.isfinite(z)]
    q1, q3 = np.quantile(z, [0.25, 0.75])
    assert 0.6 <= (q3 - q1) / 1.349 <= 1.5, (q1, q3)
    assert abs(np.median(z)) < 0.3


def test_sustained_settings_are_checked():
    with pytest.raises(ValueError):
        BurstConfig(sustained_cap=1.0, sustained_reference=1.0)
    with pytest.raises(ValueError):
        BurstConfig(sustained_threshold=0.0)
    BurstConfig(sustained_threshold=None, sustained_cap=0.5)  # off: the rest is not used
