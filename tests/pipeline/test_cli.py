"""The command line as a user runs it."""

import subprocess
import sys

import numpy as np
import pandas as pd


def run_cli(*args, **env):
    return subprocess.run(
        [sys.executable, "-m", "kedah_analytics.cli", *args], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **env}
    )  # fmt: skip


def test_eval_trends_prints_figures_and_writes_a_flag_per_row(tmp_path):
    rng = np.random.default_rng(3)
    hours = pd.date_range("2026-09-01", periods=24 * 45, freq="h", tz="Asia/Kuala_Lumpur")
    rows = []
    for k in range(12):
        rate = 0.5 + k * 0.2 + 0.8 * np.sin(2 * np.pi * hours.hour / 24) ** 2
        counts = rng.poisson(rate)
        rows += [
            (f"kw{k}", h.isoformat(), int(c))
            for h, c in zip(hours, counts, strict=True)
            if c or rng.random() < 0.5
        ]
    counts_csv, flags_csv = tmp_path / "counts.csv", tmp_path / "flags.csv"
    pd.DataFrame(rows, columns=["keyword", "timestamp", "count"]).to_csv(counts_csv, index=False)
    out = run_cli("eval-trends", "--counts", str(counts_csv), "--flags", str(flags_csv))
    assert out.returncode == 0, out.stderr
    figures = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
    for name in ("mase_model", "mase_seasonal_naive", "mae_model", "precision_at_10"):
        assert name in figures and float(figures[name]) >= 0
    flags = pd.read_csv(flags_csv, keep_default_na=False)
    assert list(flags.columns) == ["keyword", "timestamp", "score", "is_trending", "score_reason"]
    assert len(flags) == len(rows)
    # The first 72 hours have no score: an empty field with its reason, never "nan".
    unscored = flags["score"] == ""
    assert unscored.any() and (flags.loc[unscored, "score_reason"] != "").all()
    assert (flags.loc[~unscored, "score_reason"] == "").all() and "nan" not in set(flags["score"])


def test_eval_trends_names_a_bad_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("keyword,timestamp,count\nlangkawi,2026-11-20T10:00:00+08:00,3\nlangkawi,not-a-time,2\n")
    out = run_cli("eval-trends", "--counts", str(bad), "--flags", str(tmp_path / "f.csv"))
    assert out.returncode != 0
    assert "line 3" in out.stderr


def test_eval_sentiment_prints_one_figure_per_line(tmp_path):
    data = tmp_path / "labelled.tsv"
    data.write_text(
        "text\tlabel\nBest trip ever, Langkawi is beautiful\tpositive\ntak best langsung, feri lambat\tnegative\n"
        "Feri ke Langkawi pukul 9 pagi\tneutral\n",
        encoding="utf-8",
    )
    out = run_cli("eval-sentiment", "--data", str(data))
    assert out.returncode == 0, out.stderr
    figures = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
    for name in (
        "accuracy",
        "macro_f1",
        "macro_recall",
        "f1_positive",
        "f1_neutral",
        "f1_negative",
        "posts_per_second",
    ):
        assert 0 <= float(figures[name]) or name == "posts_per_second"
    assert float(figures["accuracy"]) <= 1
