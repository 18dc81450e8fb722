"""What `make run` seeds: every weekday, the default days train the last complete week's model."""

from datetime import date, timedelta

import pytest

from kedah_analytics.cli import SEED_DAYS
from kedah_analytics.definitions import seed_runs
from kedah_analytics.trends.forecast_config import ForecastConfig


@pytest.mark.parametrize("offset", range(7))
def test_the_default_seed_trains_a_model_whatever_the_weekday(offset):
    today = date(2026, 11, 30) + timedelta(days=offset)  # Monday .. Sunday
    runs = dict(seed_runs(SEED_DAYS, today))
    assert "train_trend_model" in runs, today.strftime("%A")
    week = date.fromisoformat(runs["train_trend_model"]["dagster/partition"])
    assert week.weekday() == 0 and week + timedelta(days=6) < today


def test_a_seed_too_short_for_the_backtest_leaves_training_out_instead_of_failing():
    sunday = date(2026, 12, 6)
    days = ForecastConfig().min_backtest_days  # the week ending a week ago has less than that
    names = [name for name, _ in seed_runs(days, sunday)]
    assert "train_trend_model" not in names and names[-1] == "build_marts"
