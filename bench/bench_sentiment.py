"""Malay cross-validated macro-F1 of the shipped sentiment model's settings against the plain baseline.

    .venv/bin/python bench/bench_sentiment.py [--repeats 3] [--english] [--cross-file]   # 5-10 minutes

Both are scored on the same folds: 3 x 5-fold repeated stratified k-fold (seed 20261121, strata
file x label) over all the Malay posts of both Malay files.

- shipped model: the settings recorded in kedah_analytics/data/models/sentiment.joblib (features,
  linear model, weights), trained in each fold on the English training part, the synthetic
  template posts and the Malay training folds;
- baseline: TF-IDF character 2-5 and word 1-2 grams with logistic regression, trained on the Malay
  training folds alone.

``--english`` also prints the English held-out macro-F1 and macro-recall of the same settings
(the 20% split of the training script); ``--cross-file`` the macro-F1 of each when trained on one
Malay file and scored on the other (a shift of topic and label mix).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import joblib
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kedah_analytics.classify import training as T  # noqa: E402
from kedah_analytics.classify.offline import DEFAULT_MODEL_PATH  # noqa: E402


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def shipped_settings(path: Path) -> tuple[dict[str, Any], dict[str, Any], str]:
    artifact = joblib.load(path)
    metadata = artifact["metadata"]
    features = {k: tuple(v) if isinstance(v, list) else v for k, v in metadata["features"].items()}
    return features, metadata["model"], str(artifact["version"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--repeats", type=int, default=T.CV_REPEATS)
    parser.add_argument("--english", action="store_true", help="also score the English held-out split")
    parser.add_argument(
        "--cross-file", action="store_true", help="also train on one Malay file and score the other"
    )
    args = parser.parse_args(argv)

    started = time.perf_counter()
    features, config, version = shipped_settings(args.model)
    corpus = T.load_corpus()
    english_train, english_test = T.english_split(corpus)
    folds = T.malay_folds(corpus, repeats=args.repeats)
    cache = T.FoldFeatures(corpus, features)
    cv = T.malay_cross_validation(corpus, cache, [config], folds, english_train, baseline=True, log=log)
    shipped = T.spread(cv.fold_f1[T.config_name(config)])
    baseline = T.spread(cv.fold_f1["baseline"])
    wins = int(np.sum(np.array(shipped["folds"]) > np.array(baseline["folds"])))

    n_malay = len(corpus.rows(*T.MALAY_SOURCES))
    print(
        f"Malay macro-F1 over {len(folds)} folds ({args.repeats} x {T.CV_FOLDS}, {n_malay} posts), "
        "mean ± std [min, max]"
    )
    print("| model | trained on | Malay macro-F1 |")
    print("|---|---|---|")
    print(f"| offline model {version} | English + Malay folds + templates | {T.describe(shipped)} |")
    print(f"| TF-IDF + logistic regression | Malay folds only | {T.describe(baseline)} |")
    print(f"The shipped settings beat the baseline in {wins} of {len(folds)} folds.")
    if args.english:
        english = T.english_held_out(corpus, cache, [config], english_train, english_test)[
            T.config_name(config)
        ]
        print(
            f"English held-out ({len(english_test)} posts): macro-F1 {english['macro_f1']:.3f}, "
            f"macro-recall {english['macro_recall']:.3f}"
        )
    if args.cross_file:
        across = T.cross_file(corpus, cache, [config], english_train)
        print("Trained on one Malay file, scored on the other (macro-F1):")
        for name, label in (
            (T.config_name(config), "offline model"),
            ("baseline", "TF-IDF + LR (Malay only)"),
        ):
            figures = ", ".join(f"{k} {v:.3f}" for k, v in across[name].items())
            print(f"  {label}: {figures}")
    print(f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
