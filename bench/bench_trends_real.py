"""The burst detector and the forecaster on real hourly social volume (the calibration series).

    python bench/bench_trends_real.py [--data ../shared/data/trends] [--sweep]

Reads ``nab_tweets_calibration_hourly.csv`` (``keyword,timestamp,count``, UTC) and
``nab_tweets_calibration_windows.json`` (labelled anomaly windows, UTC) from ``--data``: five
hourly series of Twitter mentions (Numenta Anomaly Benchmark, AGPL-3.0; read from the shared
folder, never copied into the project). Prints ``name: value`` lines.

Detectors, scored the way the data's README says: a window is found when at least one flagged
hour falls inside it (the hour's start within ``[start, end]``); every flagged hour outside all
windows is a false alarm, per 1,000 series-hours (all hours of all series); ``median hours into
the window`` is the median over found windows of (first flagged hour - window start).

* ``detector``: the project's detector, ``kedah_analytics.trends.burst.detect_bursts``, on the
  counts read by the ``eval-trends`` reader, placed as UTC instants (scored in Kedah hours; the
  flags are mapped back to the same instants, so the comparison with the UTC windows is exact).
* ``baseline``: a plain same-hour-last-week ratio: flag when ``count / (count 168 h before + 1)
  >= 3``.

Forecasters, on the Kedah-day totals of each series, day-ahead, in the project's rolling-origin
backtest (28 origins, refit weekly): MASE of the project's forecaster, of seasonal-naive (same
weekday last week) and of the 28-day mean, and what the promotion rule decides.

``--sweep`` adds the trade-off: windows found against false alarms for every pair of the
detector's two main settings (the hourly test's threshold and the sustained-rise CUSUM's decision
level, or the CUSUM off), marking the points no other pair beats on both, so a user can choose a
point on the curve; then the other settings moved one at a time from the defaults, to show how
flat the chosen point is rather than how well it fits.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kedah_analytics.trends.backtest import backtest  # noqa: E402
from kedah_analytics.trends.burst import BurstConfig, detect_bursts  # noqa: E402
from kedah_analytics.trends.evaluation import hourly_to_daily, read_hourly_counts  # noqa: E402
from kedah_analytics.trends.forecast_config import ForecastConfig  # noqa: E402
from kedah_analytics.trends.panel import build_panel  # noqa: E402
from kedah_analytics.trends.promotion import promote  # noqa: E402

# The shared folder sits beside the checkout (../shared), or beside the folder of worktrees.
DEFAULT_DATA = (
    next(
        (
            p
            for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared")
            if (p / "data" / "trends").is_dir()
        ),
        ROOT.parent / "shared",
    )
    / "data"
    / "trends"
)
HOUR = pd.Timedelta(hours=1)
BASELINE_RATIO = 3.0
# The detector's two main settings: the hourly test's threshold (-log10 p) and the decision level
# of the sustained-rise CUSUM (None: off). Every pair is one point of the windows/false-alarm curve.
SWEEP_THRESHOLDS: tuple[float, ...] = (5.0, 6.0, 7.0, 8.0, 10.0)
SWEEP_SUSTAINED: tuple[float | None, ...] = (None, 4.0, 5.0, 6.0, 8.0)
# Then the other settings moved one at a time from the defaults, to show how flat the chosen point is.
SWEEP_ONE_AT_A_TIME: tuple[tuple[str, object], ...] = (
    ("sustained_reference", 0.75),
    ("sustained_reference", 1.25),
    ("sustained_cap", 1.5),
    ("sustained_cap", 3.0),
    ("sustained_min_rise", 0.25),
    ("sustained_min_rise", 1.0),
    ("cooldown_hours", 12),
    ("cooldown_hours", 48),
    ("min_rise", 0.5),
    ("min_rise", 2.0),
    ("dispersion_days", 14),
    ("dispersion_days", 56),
    ("level_hours", 12),
    ("level_hours", 48),
    ("clip_factor", 2.0),
    ("clip_factor", 5.0),
)


def load_windows(path: Path) -> dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]:
    raw = json.loads(path.read_text())
    return {
        term: [(pd.Timestamp(s, tz="UTC"), pd.Timestamp(e, tz="UTC")) for s, e in spans]
        for term, spans in raw.items()
    }


def same_hour_last_week(hourly: pd.DataFrame, entity: str) -> np.ndarray:
    """Flag of the baseline for every row: count / (same hour a week before + 1) >= 3."""
    counts = hourly.set_index([entity, "timestamp"])["count"]
    earlier = counts.copy()
    earlier.index = earlier.index.set_levels(earlier.index.levels[1] + 7 * 24 * HOUR, level=1)
    last_week = earlier.reindex(counts.index).to_numpy(dtype=float)
    ratio = counts.to_numpy(dtype=float) / (last_week + 1.0)
    return np.nan_to_num(ratio, nan=0.0) >= BASELINE_RATIO


def score_flags(
    hourly: pd.DataFrame,
    entity: str,
    flags: np.ndarray,
    windows: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]],
) -> dict[str, float]:
    stamps = hourly["timestamp"].dt.tz_convert("UTC")
    terms = hourly[entity].to_numpy()
    inside_any = np.zeros(len(hourly), dtype=bool)
    found, delays = 0, []
    n_windows = 0
    for term, spans in windows.items():
        of_term = terms == term
        for start, end in spans:
            n_windows += 1
            inside = of_term & (stamps >= start).to_numpy() & (stamps <= end).to_numpy()
            inside_any |= inside
            hit = inside & flags
            if hit.any():
                found += 1
                delays.append((stamps[hit].min() - start) / HOUR)
    false_alarms = int((flags & ~inside_any).sum())
    return {
        "windows_found": found,
        "windows": n_windows,
        "false_alarms": false_alarms,
        "false_alarms_per_1000_hours": round(1000.0 * false_alarms / len(hourly), 2),
        "median_hours_into_window": round(float(np.median(delays)), 1) if delays else float("nan"),
        "flags": int(flags.sum()),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--sweep", action="store_true", help="detector figures around the chosen settings")
    args = parser.parse_args(argv)

    hourly = read_hourly_counts(args.data / "nab_tweets_calibration_hourly.csv")
    # The file's times are UTC without an offset, which the eval-trends reader would take for
    # Kedah time: place them as UTC instants. The detector then works in Kedah hours, and the
    # flags, mapped back to the same instants, are compared with the UTC windows.
    hourly["timestamp"] = pd.to_datetime(hourly["timestamp_text"], format="ISO8601").dt.tz_localize("UTC")
    entity = "term" if "term" in hourly.columns else "keyword"
    windows = load_windows(args.data / "nab_tweets_calibration_windows.json")
    figures: dict[str, object] = {"series": hourly[entity].nunique(), "series_hours": len(hourly)}

    detected = detect_bursts(hourly[[entity, "timestamp", "count"]])
    flags = detected["is_trending"].fillna(False).to_numpy(dtype=bool)
    for name, value in score_flags(hourly, entity, flags, windows).items():
        figures[f"detector_{name}"] = value
    baseline = same_hour_last_week(hourly, entity)
    for name, value in score_flags(hourly, entity, baseline, windows).items():
        figures[f"baseline_{name}"] = value

    config = ForecastConfig()
    result = backtest(build_panel(hourly_to_daily(hourly)), config)
    figures["forecast_origins"] = result.n_origins
    figures["forecast_days"] = f"{result.first_origin}..{result.last_origin} (origins)"
    figures["mase_forecaster"] = round(result.model.mase, 3)
    figures["mase_seasonal_naive"] = round(result.seasonal_naive.mase, 3)
    figures["mase_mean_28_days"] = round(result.count_model.mase, 3)
    decision = promote(result, None, margin=config.promotion_margin)
    figures["promotion_serving"] = decision.serving
    figures["promotion_reason"] = decision.reason

    for name, value in figures.items():
        print(f"{name}: {value}")
    if args.sweep:
        print_sweep(hourly, entity, windows)


def print_sweep(
    hourly: pd.DataFrame, entity: str, windows: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]]
) -> None:
    """Windows found against false alarms for the main settings (a curve to choose a point on),
    then the other settings moved one at a time."""
    frame = hourly[[entity, "timestamp", "count"]]

    def point(config: BurstConfig) -> dict[str, float]:
        return score_flags(
            hourly, entity, detect_bursts(frame, config)["is_trending"].to_numpy(bool), windows
        )

    default = BurstConfig()
    rows = []
    for threshold in SWEEP_THRESHOLDS:
        for sustained in SWEEP_SUSTAINED:
            got = point(BurstConfig(threshold=threshold, sustained_threshold=sustained))
            rows.append((threshold, sustained, got))
    # A point is on the curve when no other finds as many windows with fewer false alarms.
    print()
    print("| threshold | sustained_threshold | windows found | false alarms per 1,000 h | on the curve |")
    print("|---|---|---|---|---|")
    for threshold, sustained, got in sorted(
        rows, key=lambda r: (r[2]["false_alarms"], -r[2]["windows_found"])
    ):
        dominated = any(
            o["windows_found"] >= got["windows_found"]
            and o["false_alarms"] <= got["false_alarms"]
            and (o["windows_found"], o["false_alarms"]) != (got["windows_found"], got["false_alarms"])
            for _, _, o in rows
        )
        chosen = threshold == default.threshold and sustained == default.sustained_threshold
        shown = "off" if sustained is None else f"{sustained:g}"
        print(
            f"| {threshold:g} | {shown} | {got['windows_found']}/{got['windows']} | "
            f"{got['false_alarms_per_1000_hours']} | {'yes' if not dominated else ''}"
            f"{' (default)' if chosen else ''} |"
        )
    print()
    for setting, value in SWEEP_ONE_AT_A_TIME:
        got = point(BurstConfig(**{setting: value}))  # type: ignore[arg-type]
        print(
            f"sweep_{setting}={value}: {got['windows_found']}/{got['windows']} windows, "
            f"{got['false_alarms_per_1000_hours']} false alarms per 1,000 hours"
        )


if __name__ == "__main__":
    main()
