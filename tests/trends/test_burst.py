import numpy as np
import pandas as pd
import pytest
from scipy import stats
from trends_synth import hourly_series

from kedah_analytics.trends.burst import (
    BURST_COLUMNS,
    BurstConfig,
    detect_bursts,
    lagged_window_sum,
    negbin_upper_tail,
)

HOUR = pd.Timedelta(hours=1)
EARLY_HOURS = 3  # "early": flagged within the burst's first three hours (hours 0, 1 or 2)
AFTERGLOW_HOURS = 3  # flags this long after a burst ends still belong to it (3-hour window)


def _score_seeds(seeds: list[int]) -> dict[str, float]:
    """Pooled detection figures over generated series with injected bursts."""
    lags: list[float] = []
    true_flags = false_flags = keyword_days = 0
    for seed in seeds:
        series = hourly_series(seed=seed, n_keywords=40, n_days=56, n_bursts=12)
        flags = detect_bursts(series.counts)["is_trending"].to_numpy()
        rows = series.counts
        in_burst = np.zeros(len(rows), dtype=bool)
        for burst in series.bursts:
            window = (
                (rows["keyword"] == burst.keyword)
                & (rows["timestamp"] >= burst.start)
                & (rows["timestamp"] < burst.start + (burst.hours + AFTERGLOW_HOURS) * HOUR)
            ).to_numpy()
            in_burst |= window
            flagged = rows.loc[window & flags, "timestamp"]
            lags.append((flagged.min() - burst.start) / HOUR if len(flagged) else np.inf)
        true_flags += int((flags & in_burst).sum())
        false_flags += int((flags & ~in_burst).sum())
        keyword_days += 40 * 56
    lag = np.array(lags)
    return {
        "bursts": len(lags),
        "recall": float(np.mean(np.isfinite(lag))),
        "recall_early": float(np.mean(lag < EARLY_HOURS)),
        "median_lag_hours": float(np.median(lag)),
        "precision": true_flags / max(true_flags + false_flags, 1),
        "false_alarms_per_keyword_day": false_flags / keyword_days,
    }


def test_injected_bursts_are_found_early_with_few_false_alarms():
    # 48 bursts of 8 hours (ramping up over two) on 40 keywords x 56 days, in four series.
    figures = _score_seeds([1, 2, 3, 4])
    assert figures["recall"] >= 0.95, figures
    assert figures["recall_early"] >= 0.8, figures
    assert figures["median_lag_hours"] <= 2, figures
    assert figures["precision"] >= 0.9, figures
    assert figures["false_alarms_per_keyword_day"] <= 0.003, figures


def test_rare_and_new_keywords_do_not_fire_on_a_couple_of_posts():
    series = hourly_series(seed=4, n_keywords=30, n_days=42, n_bursts=0, rare_keywords=10)
    counts = series.counts
    last = counts["timestamp"].max()
    extra = pd.DataFrame(
        {
            "keyword": ["brand-new", "brand-new", "kw029", "viral-new"],
            "timestamp": [last - 5 * HOUR, last - 2 * HOUR, last, last],
            "count": [2, 2, 2, 30],
        }
    )
    frame = pd.concat([counts, extra], ignore_index=True)
    flags = detect_bursts(frame).assign(count=frame["count"].to_numpy())
    rare = frame["keyword"].isin([f"kw{i:03d}" for i in range(20, 30)] + ["brand-new"]).to_numpy()
    assert not flags.loc[rare, "is_trending"].any()
    # A new keyword's first posts are improbable but two are not a trend ...
    assert flags.loc[rare & (frame["count"] <= 2).to_numpy(), "score"].max() < 8
    # ... while thirty of them in an hour are.
    assert flags["is_trending"].iloc[-1]


def test_scores_use_only_the_past():
    counts = hourly_series(seed=5, n_keywords=15, n_days=35, n_bursts=4).counts
    cut = counts["timestamp"].min() + 30 * 24 * HOUR
    past = counts[counts["timestamp"] < cut]
    full = detect_bursts(counts)
    prefix = detect_bursts(past)
    kept = past.index.to_numpy()
    assert full["is_trending"].iloc[kept].any()
    np.testing.assert_array_equal(full["score"].to_numpy()[kept], prefix["score"].to_numpy())
    np.testing.assert_array_equal(full["is_trending"].to_numpy()[kept], prefix["is_trending"].to_numpy())


def test_one_output_row_per_input_row_in_input_order():
    counts = hourly_series(seed=6, n_keywords=8, n_days=21, n_bursts=2).counts
    shuffled = counts.sample(frac=1.0, random_state=1).reset_index(drop=True)
    a = detect_bursts(counts)
    b = detect_bursts(shuffled)
    assert tuple(b.columns) == BURST_COLUMNS
    assert len(b) == len(shuffled)
    assert (b["keyword"] == shuffled["keyword"]).all() and (b["timestamp"] == shuffled["timestamp"]).all()
    merged = shuffled.assign(score=b["score"]).merge(
        counts.assign(score0=a["score"]), on=["keyword", "timestamp"]
    )
    np.testing.assert_allclose(merged["score"], merged["score0"])


def test_rows_of_the_same_hour_are_one_cell():
    counts = hourly_series(seed=7, n_keywords=5, n_days=21, n_bursts=0).counts
    halves = pd.concat(
        [
            counts.assign(count=counts["count"] // 2),
            counts.assign(count=counts["count"] - counts["count"] // 2),
        ],
        ignore_index=True,
    )
    whole = detect_bursts(counts)["score"].to_numpy()
    split = detect_bursts(halves)["score"].to_numpy()
    np.testing.assert_allclose(split[: len(counts)], whole)
    np.testing.assert_allclose(split[len(counts) :], whole)


def test_naive_timestamps_are_kedah_time_and_bad_counts_fail():
    counts = hourly_series(seed=8, n_keywords=4, n_days=14, n_bursts=0).counts
    naive = counts.assign(timestamp=counts["timestamp"].dt.tz_localize(None))
    np.testing.assert_allclose(detect_bursts(naive)["score"], detect_bursts(counts)["score"])
    with pytest.raises(ValueError, match="row 3"):
        detect_bursts(counts.assign(count=[1, 2, 3, -1] + [1] * (len(counts) - 4)))
    empty = detect_bursts(counts.iloc[:0])
    assert tuple(empty.columns) == BURST_COLUMNS and empty.empty


def test_lagged_window_sum_matches_a_loop():
    rng = np.random.default_rng(0)
    grid = rng.poisson(2.0, size=(3, 200)).astype(float)
    for stride, count in [(1, 5), (24, 3), (7, 10), (168, 4)]:
        expected = np.zeros_like(grid)
        for t in range(grid.shape[1]):
            for j in range(1, count + 1):
                if t - j * stride >= 0:
                    expected[:, t] += grid[:, t - j * stride]
        np.testing.assert_allclose(lagged_window_sum(grid, stride, count), expected)


def test_negbin_tail_matches_scipy():
    x = np.array([0.0, 1.0, 3.0, 10.0, 40.0])
    shape = np.array([0.5, 2.0, 5.0, 20.0, 3.0])
    rate = np.array([10.0, 1.0, 2.0, 4.0, 0.5])
    expected = stats.nbinom.sf(x - 1, shape, rate / (rate + 1.0))
    np.testing.assert_allclose(negbin_upper_tail(x, shape, rate), expected, rtol=1e-9)


def test_config_is_checked():
    with pytest.raises(ValueError):
        BurstConfig(weeks=0)
    with pytest.raises(ValueError):
        BurstConfig(prior_rate=0.0)
