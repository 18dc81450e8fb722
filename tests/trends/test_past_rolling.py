"""The detector's rolling statistics over many rows at once are those of one row at a time."""

import numpy as np
import pandas as pd
import pytest

from kedah_analytics.trends.burst_baseline import past_rolling


def one_column_per_row(values: np.ndarray, window: int, min_periods: int, how) -> np.ndarray:
    rolling = pd.DataFrame(values.T).rolling(window, min_periods=min_periods)
    if how == "median":
        out = rolling.median()
    elif how == "mean":
        out = rolling.mean()
    else:
        out = rolling.quantile(float(how))
    return np.asarray(out.shift(1).to_numpy(dtype=np.float64).T)


@pytest.mark.parametrize("how", ["median", 0.25, 0.75, "mean"])
@pytest.mark.parametrize(
    ("shape", "window", "min_periods"), [((40, 768), 672, 72), ((240, 32), 7, 1), ((3, 5), 7, 1)]
)
def test_rows_at_once_give_the_same_numbers_as_one_column_per_row(how, shape, window, min_periods):
    rng = np.random.default_rng(11)
    values = np.log((rng.poisson(1.5, shape) + 1.0) / (rng.gamma(2.0, 1.0, shape) + 1.0))
    values[0, : shape[1] // 2] = 0.0  # a row of ties
    expected = one_column_per_row(values, window, min_periods, how)
    assert np.array_equal(past_rolling(values, window, min_periods, how), expected, equal_nan=True)
