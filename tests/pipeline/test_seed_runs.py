"""What `make run` seeds: every weekday, the default days train the last complete week's model and
hold every default period with the period it is compared with."""

import inspect
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from kedah_analytics.cli import SEED_DAYS
from kedah_analytics.definitions import seed_runs
from kedah_analytics.domain import KEDAH_TZ
from kedah_analytics.marts.periods import Period, kedah_today, resolve
from kedah_analytics.trends.forecast_config import ForecastConfig


@pytest.mark.parametrize("offset", range(7))
def test_the_default_seed_trains_a_model_whatever_the_weekday(offset):
    today = date(2026, 11, 30) + timedelta(days=offset)  # Monday .. Sunday
    runs = {run.job: run.tags for run in seed_runs(SEED_DAYS, today)}
    assert "train_trend_model" in runs, today.strftime("%A")
    week = date.fromisoformat(runs["train_trend_model"]["dagster/partition"])
    assert week.weekday() == 0 and week + timedelta(days=6) < today


def test_a_seed_too_short_for_the_backtest_leaves_training_out_instead_of_failing():
    sunday = date(2026, 12, 6)
    days = ForecastConfig().min_backtest_days  # the week ending a week ago has less than that
    names = [run.job for run in seed_runs(days, sunday)]
    assert "train_trend_model" not in names and names[-1] == "build_marts"


def _default_periods(now: datetime) -> dict[str, Period]:
    """The period each reader opens on when asked for nothing, read from its own code."""
    import kedah_analytics.api.params as api_params
    from kedah_analytics import queries

    root = Path(__file__).resolve().parents[2]
    notebook = (root / "notebooks" / "kedah_overview.ipynb").read_text()
    dashboard = (root / "kedah_analytics" / "dashboard" / "filters.py").read_text()
    yesterday = kedah_today(now) - timedelta(days=1)
    defaults = {
        "queries": inspect.signature(queries.city_overview).parameters["period"].default,
        "api": inspect.signature(api_params.period).parameters["value"].default,
        "dashboard": re.search(r'_param\("period", "(\w+)"\)', dashboard)[1],  # type: ignore[index]
    }
    periods = {name: resolve(value, now) for name, value in defaults.items()}
    periods["overview notebook"] = Period.last(int(re.search(r"days = (\d+)", notebook)[1]), end=yesterday)  # type: ignore[index]
    periods["weekly report"] = Period.week_of(yesterday)  # its default: the latest week with data
    return periods


@pytest.mark.parametrize("offset", range(7))
def test_the_default_seed_holds_each_default_period_and_the_period_it_is_compared_with(offset):
    now = datetime(2026, 11, 30, 10, tzinfo=KEDAH_TZ) + timedelta(days=offset)
    seeded_from = kedah_today(now) - timedelta(days=SEED_DAYS - 1)
    for reader, period in _default_periods(now).items():
        assert period.days >= 7, reader  # the defaults were read, not a day by mistake
        assert period.previous().start >= seeded_from, (reader, period.previous().name, seeded_from)
    short = seeded_from + timedelta(days=1)  # one day fewer leaves the month's comparison short
    assert resolve("month", now).previous().start < short


def test_every_doc_names_the_days_make_run_seeds():
    """The Makefile, the README, the CLI help and the notebooks say the same number of days."""
    from kedah_analytics.cli import build_parser

    root = Path(__file__).resolve().parents[2]
    readme, makefile = (root / "README.md").read_text(), (root / "Makefile").read_text()
    said = [
        *re.findall(r"make run +# .*?(\d+) demo days", readme + makefile),
        *re.findall(r"kedah-analytics (?:dev|seed) \[.*?--days (\d+)\]", readme),
        *re.findall(
            r"the (\d+) days `make run` seeds", readme + (root / "notebooks/kedah_overview.ipynb").read_text()
        ),
        *re.findall(r"last (\d+) demo days", readme[:3000]),
    ]
    assert len(said) >= 6 and set(said) == {str(SEED_DAYS)}, said
    subparsers = next(a for a in build_parser()._actions if a.choices and "seed" in a.choices)
    for command in ("seed", "dev"):
        assert f"({SEED_DAYS}" in subparsers.choices[command].format_help().replace("(default ", "("), command
