import math

import pandas as pd
import pytest
from trends_synth import hourly_series

from kedah_analytics.trends.evaluation import EvalInputError, format_report, run_eval_trends

REQUIRED = ("mase_model", "mase_seasonal_naive", "mae_model", "mae_seasonal_naive", "precision_at_10")


def _write_counts(path, frame: pd.DataFrame) -> None:
    out = frame.assign(timestamp=frame["timestamp"].map(lambda t: t.isoformat()))
    out.rename(columns={"term": "keyword"})[["keyword", "timestamp", "count"]].to_csv(path, index=False)


def test_eval_trends_end_to_end_on_a_small_file_with_gaps(tmp_path):
    series = hourly_series(seed=21, n_terms=12, n_days=42, n_bursts=4, rare_terms=2)
    # Zero hours are already absent (gaps); shuffle so that "same order" means something.
    counts = series.counts.sample(frac=1.0, random_state=3).reset_index(drop=True)
    counts_csv, flags_csv = tmp_path / "counts.csv", tmp_path / "flags.csv"
    _write_counts(counts_csv, counts)

    figures = run_eval_trends(counts_csv, flags_csv)
    for name in REQUIRED:
        assert math.isfinite(figures[name]), (name, figures)
    assert figures["n_rows"] == len(counts) and figures["n_terms"] == 12 and figures["n_days"] == 42
    assert figures["n_origins"] >= 14
    assert figures["n_trending_terms"] >= 3
    assert isinstance(figures["promote"], bool) and figures["promote_reason"]

    flags = pd.read_csv(flags_csv, keep_default_na=False)
    assert list(flags.columns) == ["keyword", "timestamp", "score", "is_trending", "score_reason"]
    assert len(flags) == len(counts)
    assert (flags["keyword"] == counts["term"]).all()
    assert (flags["timestamp"] == counts["timestamp"].map(lambda t: t.isoformat())).all()
    assert flags["is_trending"].dtype == bool and flags["is_trending"].sum() == figures["n_trending_rows"]
    # The injected bursts are among the flags.
    flagged = set(flags.loc[flags["is_trending"], "keyword"])
    assert {b.term for b in series.bursts} <= flagged

    report = format_report(figures)
    lines = report.splitlines()
    assert len(lines) == len(figures)
    for line, name in zip(lines, figures, strict=True):
        key, _, value = line.partition(": ")
        assert key == name and value != ""
    assert any(line.startswith("mase_model: ") for line in lines)


def test_a_file_too_short_to_backtest_still_gets_its_flags(tmp_path):
    counts_csv, flags_csv = tmp_path / "c.csv", tmp_path / "f.csv"
    counts_csv.write_text(
        "keyword,timestamp,count\n"
        "langkawi,2026-11-01T10:00:00+08:00,3\n"
        "#langkawi,2026-11-01T02:00:00Z,1\n"
        "\n"
        "langkawi,2026-11-03T09:00:00+08:00,4\n"
    )
    figures = run_eval_trends(counts_csv, flags_csv)
    assert math.isnan(figures["mase_model"]) and "too little data" in figures["backtest_skipped"]
    assert figures["n_days"] == 3
    flags = pd.read_csv(flags_csv)
    assert len(flags) == 3 and list(flags["timestamp"])[1] == "2026-11-01T02:00:00Z"
    assert "mase_model: nan" in format_report(figures)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a,2026-11-01T10:00:00,3\nb,2026-11-01T11:00:00,x\n", r"line 3: count 'x' is not a whole number"),
        ("a,2026-11-01T10:00:00,3\nb,2026-11-01T11:00:00,-2\n", r"line 3: count '-2'"),
        ("a,2026-11-01T10:00:00,1.5\n", r"line 2: count '1.5'"),
        (
            "a,2026-11-01T10:00:00,3\nb,2026-13-01T11:00:00,1\n",
            r"line 3: timestamp '2026-13-01T11:00:00' is not",
        ),
        ("a,2026-11-01T10:00:00,3\n,2026-11-01T11:00:00,1\n", r"line 3: keyword is empty"),
        (
            "a,2026-11-01T10:00:00+08:00,3\nb,2026-11-01T10:00:00+08:00,3\nc,2026-11-01T11:00:00,1\n",
            r"line 4: timestamp '2026-11-01T11:00:00' has no UTC offset",
        ),
        ("a,2026-11-01T10:00:00,3\nb,2026-11-01T11:00:00,1,9\n", r"line 3"),
    ],
)
def test_bad_rows_are_named_by_line(tmp_path, body, message):
    path = tmp_path / "bad.csv"
    path.write_text("keyword,timestamp,count\n" + body)
    with pytest.raises(EvalInputError, match=message):
        run_eval_trends(path, tmp_path / "out.csv")


def test_bad_header_and_empty_file(tmp_path):
    header = tmp_path / "h.csv"
    header.write_text("kw,time,n\na,2026-11-01T10:00:00,1\n")
    with pytest.raises(EvalInputError, match="line 1: header"):
        run_eval_trends(header, tmp_path / "o.csv")
    empty = tmp_path / "e.csv"
    empty.write_text("")
    with pytest.raises(EvalInputError, match="empty"):
        run_eval_trends(empty, tmp_path / "o.csv")
    only_header = tmp_path / "oh.csv"
    only_header.write_text("keyword,timestamp,count\n")
    with pytest.raises(EvalInputError, match="no data rows"):
        run_eval_trends(only_header, tmp_path / "o.csv")
