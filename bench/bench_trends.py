"""Timings of the trends library on 1,000 keywords x 90 days of hourly counts (2.16 M rows).

    python bench/bench_trends.py [--keywords 1000] [--days 90] [--seed 0]

Prints ``name: value`` lines: the burst detector on every hourly row (against a same-hour-last-
week ratio as the baseline), and the forecaster on the daily totals (fit, predict, a 28-origin
backtest) against seasonal-naive and the 28-day-mean count model, plus the backtest's figures.
The series are generated: lognormal keyword volumes, a Kedah diurnal and weekly profile, and a
decaying buzz process that drives some days up.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kedah_analytics.trends.backtest import backtest  # noqa: E402
from kedah_analytics.trends.burst import detect_bursts  # noqa: E402
from kedah_analytics.trends.evaluation import hourly_to_daily  # noqa: E402
from kedah_analytics.trends.model import fit_trend_model  # noqa: E402
from kedah_analytics.trends.panel import build_panel  # noqa: E402
from kedah_analytics.trends.predict import predict_trends  # noqa: E402

KEDAH_TZ = "Asia/Kuala_Lumpur"
DIURNAL = np.array(
    [0.3, 0.2, 0.15, 0.1, 0.1, 0.2, 0.5, 0.8, 1.0, 1.1, 1.2, 1.4]
    + [1.5, 1.4, 1.2, 1.1, 1.1, 1.2, 1.4, 1.7, 1.9, 1.8, 1.3, 0.7]
)
WEEKLY = np.array([0.9, 0.9, 0.9, 0.95, 1.25, 1.35, 1.0])  # Kedah's weekend: Friday, Saturday


def generate(n_keywords: int, n_days: int, seed: int) -> pd.DataFrame:
    """Every keyword x hour as a row (zeros included): ``keyword, timestamp, count``."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range("2026-08-01", periods=n_days * 24, freq="h", tz=KEDAH_TZ)
    daily_volume = np.exp(rng.normal(np.log(10.0), 1.2, size=n_keywords))
    shocks = (rng.random((n_keywords, n_days)) < 0.08) * rng.gamma(2.0, 1.5, (n_keywords, n_days))
    buzz = np.zeros((n_keywords, n_days))
    for day in range(n_days):
        buzz[:, day] = shocks[:, day] + (0.55 * buzz[:, day - 1] if day else 0.0)
    day_rate = daily_volume[:, None] * WEEKLY[hours.day_of_week.to_numpy()[::24]][None, :] * (1.0 + buzz)
    rate = np.repeat(day_rate, 24, axis=1) / 24.0 * (DIURNAL / DIURNAL.mean())[np.tile(np.arange(24), n_days)]
    counts = rng.poisson(rate)
    names = np.array([f"kw{i:04d}" for i in range(n_keywords)], dtype=object)
    return pd.DataFrame(
        {
            "term": np.repeat(names, n_days * 24),
            # Tiling the UTC instants and converting once is ~50x faster than tiling Timestamps.
            "timestamp": pd.DatetimeIndex(
                np.tile(hours.tz_convert("UTC").tz_localize(None).to_numpy(), n_keywords)
            )
            .tz_localize("UTC")
            .tz_convert(KEDAH_TZ),
            "count": counts.reshape(-1),
        }
    )


def timed(figures: dict[str, object], name: str, fn, *args, **kwargs):
    started = time.perf_counter()
    out = fn(*args, **kwargs)
    figures[name] = round(time.perf_counter() - started, 3)
    return out


def same_hour_last_week(hourly: pd.DataFrame) -> np.ndarray:
    """Baseline burst score: count / (same hour last week + 1), on the dense grid."""
    grid = hourly["count"].to_numpy().reshape(hourly["term"].nunique(), -1).astype(float)
    last_week = np.zeros_like(grid)
    last_week[:, 168:] = grid[:, :-168]
    return (grid / (last_week + 1.0)).reshape(-1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keywords", type=int, default=1000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    figures: dict[str, object] = {}
    hourly = timed(figures, "generate_seconds", generate, args.keywords, args.days, args.seed)
    figures["hourly_rows"] = len(hourly)
    figures["keywords"] = args.keywords
    figures["days"] = args.days

    timed(figures, "burst_baseline_same_hour_last_week_seconds", same_hour_last_week, hourly)
    flags = timed(figures, "burst_detect_seconds", detect_bursts, hourly)
    figures["burst_rows_per_second"] = round(len(hourly) / max(figures["burst_detect_seconds"], 1e-9))
    figures["burst_trending_rows"] = int(flags["is_trending"].sum())

    daily = timed(figures, "daily_aggregate_seconds", hourly_to_daily, hourly[hourly["count"] > 0])
    panel = timed(figures, "daily_panel_seconds", build_panel, daily)
    figures["daily_rows"] = len(daily)

    started = time.perf_counter()
    naive = panel.total[:, -7]
    figures["seasonal_naive_predict_seconds"] = round(time.perf_counter() - started, 6)
    started = time.perf_counter()
    count_model = panel.total[:, -28:].mean(axis=1)
    figures["count_model_predict_seconds"] = round(time.perf_counter() - started, 6)
    del naive, count_model

    model = timed(figures, "forecast_train_seconds", fit_trend_model, panel)
    timed(figures, "forecast_predict_seconds", predict_trends, model, panel, top_n=None)
    result = timed(figures, "forecast_backtest_seconds", backtest, panel)
    figures["forecast_backtest_refits"] = -(-result.n_origins // result.refit_every)
    for name in (
        "mase_model",
        "mase_seasonal_naive",
        "mase_count_model",
        "mae_model",
        "mae_seasonal_naive",
        "precision_at_10",
        "precision_at_10_seasonal_naive",
    ):
        value = result.as_dict()[name]
        figures[name] = round(value, 4)
    figures["forecast_model_version"] = model.version

    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main()
