"""General-Malay cross-validated macro-F1 of the shipped sentiment model's settings against the
plain baseline, English held-out macro-recall and the model's throughput on one core.

    .venv/bin/python bench/bench_sentiment.py [--repeats 3] [--cross-file] [--both-files]   # 5-10 minutes

The headline is what a tourism board would meet: 3 x 5-fold repeated stratified k-fold (seed
20261121, strata label) whose test folds are drawn only from the general Malay tweets
(``malay_twitter_train.tsv``, the distribution tourism posts look like). On the same folds:

- shipped model: the settings recorded in kedah_analytics/data/models/sentiment.joblib (features,
  linear model, weights), trained in each fold on the English training part, the synthetic
  template posts, the whole politics file and the general tweets' training folds;
- baseline: TF-IDF character 2-5 and word 1-2 grams with logistic regression, trained on the
  general tweets' training folds alone; and the same baseline trained on those and the politics
  file.

Printed: the macro-F1 table, per-class F1, confusion matrices summed over the folds, ``name:
value`` lines (``malay_general_cv_f1``, ``malay_general_baseline_f1``, ...), the English
held-out macro-F1 and macro-recall of the same settings (the 20% split of the training script)
and the shipped model's posts per second on one core (wall clock, and per CPU-second, the figure
that holds when the machine is shared). ``--cross-file`` adds the macro-F1 when
trained on one Malay file and scored on the other; ``--both-files`` the earlier headline, folds
over both Malay files together (the politics file is three-quarters negative and easier).
"""

from __future__ import annotations

import os

# One core for the throughput figure: pin BLAS before numpy loads.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import joblib  # noqa: E402
import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kedah_analytics.classify import cross_validation as CV  # noqa: E402
from kedah_analytics.classify import training as T  # noqa: E402
from kedah_analytics.classify.base import LABELS  # noqa: E402
from kedah_analytics.classify.fold_features import FoldFeatures  # noqa: E402
from kedah_analytics.classify.offline import DEFAULT_MODEL_PATH, OfflineSentimentModel  # noqa: E402

THROUGHPUT_POSTS = 20_000


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def shipped_settings(path: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    artifact = joblib.load(path)
    metadata = artifact["metadata"]
    features = {k: tuple(v) if isinstance(v, list) else v for k, v in metadata["features"].items()}
    return features, metadata["model"], str(artifact["version"])


def print_classes(cv: CV.CVResult, rows: list[tuple[str, str]]) -> None:
    print()
    print("| model | " + " | ".join(f"F1 {label}" for label in LABELS) + " |")
    print("|---|" + "---|" * len(LABELS))
    for name, shown in rows:
        report = cv.report(name)["f1_per_class"]
        print(f"| {shown} | " + " | ".join(f"{report[label]:.3f}" for label in LABELS) + " |")
    for name, shown in rows:
        print()
        print(f"Confusion matrix, {shown} (rows true, columns predicted, summed over the folds):")
        print("| true \\ predicted | " + " | ".join(LABELS) + " |")
        print("|---|" + "---|" * len(LABELS))
        for label, counts in zip(LABELS, cv.confusion[name], strict=True):
            print(f"| {label} | " + " | ".join(str(int(c)) for c in counts) + " |")


def throughput(model_path: Path, texts: list[str]) -> tuple[float, float]:
    """Posts per second of the shipped model classifying ``texts`` in one call, best of three: by
    the wall clock, and by the process's CPU time (what one core gives when the machine is shared
    with other work; BLAS is pinned to one thread above)."""
    model = OfflineSentimentModel.load(model_path)
    wall = cpu = 0.0
    for _ in range(3):
        started, started_cpu = time.perf_counter(), time.process_time()
        model.predict(texts)
        wall = max(wall, len(texts) / (time.perf_counter() - started))
        cpu = max(cpu, len(texts) / max(time.process_time() - started_cpu, 1e-9))
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--repeats", type=int, default=T.CV_REPEATS)
    parser.add_argument(
        "--cross-file", action="store_true", help="also train on one Malay file and score the other"
    )
    parser.add_argument(
        "--both-files", action="store_true", help="also the earlier folds over both Malay files together"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    features, config, version = shipped_settings(args.model)
    name = CV.config_name(config)
    corpus = T.load_corpus()
    english_train, english_test = T.english_split(corpus)
    folds = T.general_folds(corpus, repeats=args.repeats)
    experiment = CV.Experiment(corpus, FoldFeatures(corpus, features), [config], english_train)
    cv = CV.malay_cross_validation(experiment, folds, baselines=CV.BASELINES, log=log)
    shipped = cv.report(name)
    baseline = cv.report("baseline")
    with_politics = cv.report("baseline_with_politics")
    wins = int(np.sum(np.array(shipped["folds"]) > np.array(baseline["folds"])))

    n_general = len(corpus.rows("malay_twitter"))
    print(
        f"General Malay tweets ({T.FILES['malay_twitter']}, {n_general} posts): macro-F1 over "
        f"{len(folds)} test folds ({args.repeats} x {T.CV_FOLDS}), mean ± std [min, max]"
    )
    print("| model | trained on | macro-F1 |")
    print("|---|---|---|")
    print(
        f"| offline model {version} | English + politics + general folds + templates | {CV.describe(shipped)} |"
    )
    print(f"| TF-IDF + logistic regression | general folds only | {CV.describe(baseline)} |")
    print(f"| TF-IDF + logistic regression | general folds + politics | {CV.describe(with_politics)} |")
    print(f"The shipped settings beat the baseline in {wins} of {len(folds)} folds.")
    print_classes(
        cv,
        [
            (name, f"offline model {version}"),
            ("baseline", "TF-IDF + LR (general)"),
            ("baseline_with_politics", "TF-IDF + LR (general + politics)"),
        ],
    )

    english = CV.english_held_out(experiment, english_test)[name]
    english_texts = [corpus.texts[i] for i in english_test]
    sample = (english_texts * (THROUGHPUT_POSTS // len(english_texts) + 1))[:THROUGHPUT_POSTS]
    posts_per_second, posts_per_cpu_second = throughput(args.model, sample)

    print()
    figures = {
        "malay_general_cv_f1": shipped["mean"],
        "malay_general_cv_f1_std": shipped["std"],
        "malay_general_baseline_f1": baseline["mean"],
        "malay_general_baseline_f1_std": baseline["std"],
        "malay_general_gain_over_baseline": round(shipped["mean"] - baseline["mean"], 4),
        "malay_general_baseline_with_politics_f1": with_politics["mean"],
        "malay_general_folds": len(folds),
        "english_held_out_posts": len(english_test),
        "english_held_out_macro_f1": english["macro_f1"],
        "english_held_out_macro_recall": english["macro_recall"],
        "offline_posts_per_second_wall_clock": round(posts_per_second),
        "offline_posts_per_cpu_second_one_core": round(posts_per_cpu_second),
        "cpu_cores_visible": os.cpu_count(),
        "load_average_1_min": round(os.getloadavg()[0], 2),
    }
    for key, value in figures.items():
        print(f"{key}: {value}")

    if args.both_files:
        both = CV.malay_cross_validation(experiment, T.malay_folds(corpus, repeats=args.repeats))
        print(f"malay_both_files_cv_f1 (the earlier headline): {CV.spread(both.fold_f1[name])['mean']}")
    if args.cross_file:
        across = CV.cross_file(experiment)
        print("Trained on one Malay file, scored on the other (macro-F1):")
        for key, label in ((name, "offline model"), ("baseline", "TF-IDF + LR (Malay only)")):
            shown = ", ".join(f"{k} {v:.3f}" for k, v in across[key].items())
            print(f"  {label}: {shown}")
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
