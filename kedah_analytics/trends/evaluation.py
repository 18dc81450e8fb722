"""``kedah-analytics eval-trends --counts FILE.csv --flags OUT.csv``: backtest the forecaster
against seasonal-naive on a file of hourly counts, and write the burst detector's flags.

The counts file has the header ``keyword,timestamp,count`` (``keyword`` names the counted
term): ISO timestamps (all with a UTC offset,
or all without one, then read as Kedah time), whole counts >= 0, any number of terms, hours
with no row meaning 0. A bad row stops the run with an :class:`EvalInputError` naming its line.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kedah_analytics.domain import TIMEZONE_NAME as KEDAH_TZ
from kedah_analytics.trends.backtest import backtest
from kedah_analytics.trends.burst import BurstConfig, detect_bursts
from kedah_analytics.trends.forecast_config import ForecastConfig
from kedah_analytics.trends.panel import build_panel
from kedah_analytics.trends.promotion import promote

REQUIRED_COLUMNS: tuple[str, ...] = ("keyword", "timestamp", "count")
_OFFSET = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$"


class EvalInputError(ValueError):
    """The counts file cannot be read; the message names the file and the line."""


def _fail(path: Path, lines: np.ndarray, message: str, n_bad: int) -> EvalInputError:
    more = f" ({n_bad} bad rows in all)" if n_bad > 1 else ""
    return EvalInputError(f"{path}, line {int(lines[0])}: {message}{more}")


def read_hourly_counts(path: str | Path) -> pd.DataFrame:
    """Read and check an hourly counts CSV.

    Returns ``term`` (str, the file's ``keyword``), ``timestamp`` (tz Asia/Kuala_Lumpur), ``count`` (int64),
    ``timestamp_text`` (as written) and ``line`` (1-based line in the file), one row per data
    line in file order; wholly blank lines are skipped.
    """
    path = Path(path)
    try:
        raw = pd.read_csv(
            path,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=False,
            skipinitialspace=True,
            engine="c",
        )
    except FileNotFoundError:
        raise EvalInputError(f"{path}: no such file") from None
    except pd.errors.EmptyDataError:
        raise EvalInputError(
            f"{path}: the file is empty; expected the header keyword,timestamp,count"
        ) from None
    except pd.errors.ParserError as exc:
        raise EvalInputError(f"{path}: {exc}") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    missing = [c for c in REQUIRED_COLUMNS if c not in raw.columns]
    if missing:
        raise EvalInputError(
            f"{path}, line 1: header {','.join(raw.columns)!r} lacks {missing}; expected keyword,timestamp,count"
        )
    frame = raw[list(REQUIRED_COLUMNS)].apply(lambda col: col.str.strip())
    # Header is line 1; quoted fields with newlines are not expected in this format.
    line = np.arange(2, len(frame) + 2)
    blank = (frame == "").all(axis=1).to_numpy()
    frame, line = frame.loc[~blank].reset_index(drop=True), line[~blank]
    if frame.empty:
        raise EvalInputError(f"{path}: no data rows after the header")

    empty_term = (frame["keyword"] == "").to_numpy()
    if empty_term.any():
        raise _fail(path, line[empty_term], "keyword is empty", int(empty_term.sum()))

    numbers = pd.to_numeric(frame["count"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(numbers) | (numbers < 0) | (np.mod(numbers, 1.0) != 0)
    bad |= np.isnan(numbers)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise _fail(
            path,
            line[bad],
            f"count {frame['count'].iloc[first]!r} is not a whole number >= 0",
            int(bad.sum()),
        )

    text = frame["timestamp"]
    has_offset = text.str.contains(_OFFSET, regex=True).to_numpy()
    if has_offset.any() and not has_offset.all():
        odd = ~has_offset if has_offset.mean() >= 0.5 else has_offset
        first = int(np.flatnonzero(odd)[0])
        raise _fail(
            path,
            line[odd],
            f"timestamp {text.iloc[first]!r} "
            + ("has no UTC offset" if not has_offset[first] else "has a UTC offset")
            + " while the other rows "
            + ("do" if not has_offset[first] else "do not")
            + "; use one form throughout",
            int(odd.sum()),
        )
    if has_offset.all():
        parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
        stamps = parsed.dt.tz_convert(KEDAH_TZ)
    else:
        parsed = pd.to_datetime(text, format="ISO8601", errors="coerce")
        stamps = parsed.dt.tz_localize(KEDAH_TZ)
    unparsed = stamps.isna().to_numpy()
    if unparsed.any():
        first = int(np.flatnonzero(unparsed)[0])
        raise _fail(
            path,
            line[unparsed],
            f"timestamp {text.iloc[first]!r} is not an ISO date-time",
            int(unparsed.sum()),
        )
    return pd.DataFrame(
        {
            "term": frame["keyword"].astype(str),
            "timestamp": stamps,
            "count": numbers.astype(np.int64),
            "timestamp_text": text.astype(str),
            "line": line,
        }
    )


def hourly_to_daily(hourly: pd.DataFrame) -> pd.DataFrame:
    """Kedah-day totals per term: ``term, date, count``."""
    days = hourly["timestamp"].dt.tz_convert(KEDAH_TZ).dt.date
    daily = (
        pd.DataFrame({"term": hourly["term"], "date": days, "count": hourly["count"]})
        .groupby(["term", "date"], sort=True)["count"]
        .sum()
        .reset_index()
    )
    return daily


def write_flags(path: str | Path, hourly: pd.DataFrame, flags: pd.DataFrame) -> None:
    """``keyword,timestamp,score,is_trending,score_reason``, one line per input row, timestamps
    as written. A missing score is an empty field with its reason beside it, never ``nan``."""
    out = pd.DataFrame(
        {
            "keyword": hourly["term"].to_numpy(),
            "timestamp": hourly["timestamp_text"].to_numpy(),
            "score": np.round(flags["score"].to_numpy(), 4),
            "is_trending": np.where(flags["is_trending"].to_numpy(), "true", "false"),
            "score_reason": flags["score_reason"].fillna("").to_numpy(),
        }
    )
    out.to_csv(path, index=False, lineterminator="\n")


def run_eval_trends(
    counts_path: str | Path,
    flags_path: str | Path,
    *,
    forecast_config: ForecastConfig | None = None,
    burst_config: BurstConfig | None = None,
) -> dict[str, Any]:
    """Run the burst detector and the forecaster backtest on an hourly counts CSV.

    Writes the flags file and returns the figures: ``mase_model``, ``mase_seasonal_naive``,
    ``mase_count_model``, the pooled MASEs, ``mae_*``, ``precision_at_10`` (and for each
    baseline), ``relative_mase``, ``promote`` and ``promote_reason``, counts of rows, terms,
    days and trending rows, and timings. When the file spans too few days to backtest, the
    metrics are NaN and ``backtest_skipped`` says why; the flags are still written.
    """
    forecast_config = forecast_config or ForecastConfig()
    hourly = read_hourly_counts(counts_path)

    started = time.perf_counter()
    flags = detect_bursts(hourly[["term", "timestamp", "count"]], burst_config)
    burst_seconds = time.perf_counter() - started
    write_flags(flags_path, hourly, flags)

    daily = hourly_to_daily(hourly)
    panel = build_panel(daily)
    figures: dict[str, Any] = {
        "n_rows": len(hourly),
        "n_terms": int(hourly["term"].nunique()),
        "first_day": panel.first_day.isoformat(),
        "last_day": panel.last_day.isoformat(),
        "n_days": int(panel.total.shape[1]),
        "n_trending_rows": int(flags["is_trending"].sum()),
        "n_trending_terms": int(hourly.loc[flags["is_trending"].to_numpy(), "term"].nunique()),
        "n_unscored_rows": int(flags["score"].isna().sum()),
        "max_burst_score": float(flags["score"].max()) if flags["score"].notna().any() else math.nan,
    }
    started = time.perf_counter()
    try:
        result = backtest(panel, forecast_config)
    except ValueError as exc:
        nan = math.nan
        figures.update(
            {
                f"{metric}_{method}": nan
                for metric in ("mase", "mae")
                for method in ("model", "seasonal_naive", "count_model")
            }
        )
        figures.update(precision_at_10=nan, promote=False, backtest_skipped=str(exc))
    else:
        decision = promote(result, None, margin=forecast_config.promotion_margin)
        figures.update(result.as_dict())
        figures.update(promote=decision.promote, promote_reason=decision.reason)
    figures["seconds_backtest"] = time.perf_counter() - started
    figures["seconds_bursts"] = burst_seconds
    return figures


def _format_value(value: Any) -> str:
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return f"{value:.4f}"
    return " ".join(str(value).split())


def format_report(figures: dict[str, Any]) -> str:
    """``name: value``, one per line, in the figures' order."""
    return "\n".join(f"{name}: {_format_value(value)}" for name, value in figures.items())
