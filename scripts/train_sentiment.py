"""Train the offline sentiment model, choosing its settings by repeated cross-validation on the
general Malay tweets.

    .venv/bin/python scripts/train_sentiment.py            # about 15 minutes on 2 cores

How the choice is made (kedah_analytics/classify/training.py has the details):

- Malay: 3 x 5-fold repeated stratified cross-validation whose test folds are drawn only from the
  general Malay tweets (malay_twitter_train.tsv, strata = label, seed 20261121), the distribution
  tourism posts look like. Each fold trains on the English training part, the synthetic template
  posts, the whole politics file and the general tweets' training folds. The plain baseline
  (TF-IDF character 2-5 and word 1-2 grams, logistic regression, trained on the general tweets'
  training folds) is scored on the same folds, and so is the same baseline trained on those and
  the politics file.
- English: the stratified 20% of the English file the earlier model reported on (same seed),
  scored by a model trained on the other 80% and all the Malay posts.
- The grid's setting with the best mean general-Malay macro-F1 wins among those whose English held-out
  macro-recall is at least ENGLISH_RECALL_FLOOR (the earlier model's figure on the same split).
- The confidence temperature is fitted on the winner's out-of-fold Malay and held-out English
  logits. The shipped model is then fitted with those settings on every post (English, Malay and
  the synthetic template posts).

It writes kedah_analytics/data/models/sentiment.joblib and sentiment_metrics.json and prints the
figures. bench/bench_sentiment.py re-measures the shipped model against the baseline.
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import scipy
import sklearn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kedah_analytics.classify import cross_validation as CV  # noqa: E402
from kedah_analytics.classify import training as T  # noqa: E402
from kedah_analytics.classify.features import SentimentFeaturizer  # noqa: E402
from kedah_analytics.classify.fold_features import FoldFeatures  # noqa: E402
from kedah_analytics.classify.offline import OfflineSentimentModel  # noqa: E402

MODEL_DIR = ROOT / "kedah_analytics" / "data" / "models"

FEATURES: dict[str, Any] = {
    "char_ngram_range": (2, 5),
    "word_ngram_range": (1, 2),
    "char_min_df": 3,
    "word_min_df": 2,
    "max_char_features": 150_000,
    "max_word_features": 60_000,
    "vader_mode": "words",
    "use_lexicon": True,
}
# The earlier model's English held-out macro-recall on the same 20% split: no setting may fall below.
ENGLISH_RECALL_FLOOR = 0.675
# "malay_weight" multiplies the weight of Malay posts (4% of the rows); "synthetic_weight" is that
# of the template posts. A wider screen (one repeat of 5 folds, and training on one Malay file while
# scoring the other) found SGD logistic regression and Malay weights of 3 or 10 no better on Malay
# and worse on English or across files (figures in the commit that introduced this grid).
# "general_weight" multiplies it again for the general tweets, the distribution the figure is
# measured on. C=0.05 scored below C=0.1 on the general tweets' folds in a first repeat (0.593
# against 0.610 over 5 folds) and left the grid.
GRID: list[dict[str, Any]] = [
    {"kind": "linear_svc", "C": 0.1, "malay_weight": 1.0, "synthetic_weight": 1.0},
    {"kind": "linear_svc", "C": 0.1, "malay_weight": 3.0, "synthetic_weight": 1.0},
    {"kind": "linear_svc", "C": 0.1, "malay_weight": 1.0, "synthetic_weight": 1.0, "general_weight": 3.0},
]


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def choose(
    configs: list[dict[str, Any]], malay: dict[str, dict[str, Any]], english: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The best mean Malay macro-F1 among the settings that keep English at or above the floor."""
    allowed = [c for c in configs if english[CV.config_name(c)]["macro_recall"] >= ENGLISH_RECALL_FLOOR]
    if not allowed:
        log(f"no setting reaches English macro-recall {ENGLISH_RECALL_FLOOR}; choosing the best English one")
        return max(configs, key=lambda c: english[CV.config_name(c)]["macro_recall"])
    return max(allowed, key=lambda c: malay[CV.config_name(c)]["mean"])


def fit_shipped(corpus: T.Corpus, config: dict[str, Any], temperature: float) -> OfflineSentimentModel:
    rows = np.arange(len(corpus.texts))
    featurizer = SentimentFeaturizer(**FEATURES).fit_posts(corpus.posts)
    X = featurizer.transform_posts(corpus.posts)
    coef, intercept = T.fit_on(corpus, config, rows, X)
    digest = hashlib.sha256()
    digest.update(pickle.dumps(featurizer, protocol=5))
    digest.update(coef.astype(np.float32).tobytes())
    digest.update(intercept.astype(np.float32).tobytes())
    digest.update(repr(temperature).encode())
    return OfflineSentimentModel(
        featurizer=featurizer,
        coef=coef.astype(np.float32),
        intercept=intercept.astype(np.float32),
        temperature=temperature,
        version=digest.hexdigest()[:12],
    )


def _shown(path: Path) -> str:
    path = path.resolve()
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=MODEL_DIR / "sentiment.joblib")
    parser.add_argument("--metrics", type=Path, default=MODEL_DIR / "sentiment_metrics.json")
    parser.add_argument("--repeats", type=int, default=T.CV_REPEATS, help="cross-validation repeats")
    args = parser.parse_args(argv)

    random.seed(T.SEED)
    np.random.seed(T.SEED)
    started = time.perf_counter()

    corpus = T.load_corpus()
    english_train, english_test = T.english_split(corpus)
    folds = T.general_folds(corpus, repeats=args.repeats)
    n_general = len(corpus.rows("malay_twitter"))
    log(
        f"{len(corpus.texts)} posts, {n_general} general Malay tweets in {len(folds)} test folds, "
        f"{len(english_test)} English held out"
    )
    features = FoldFeatures(corpus, FEATURES)
    log("n-gram counts made")

    experiment = CV.Experiment(corpus, features, GRID, english_train)
    cv = CV.malay_cross_validation(experiment, folds, baselines=CV.BASELINES, log=log)
    malay = {name: cv.report(name) for name in cv.fold_f1}
    english = CV.english_held_out(experiment, english_test)
    for config in GRID:
        name = CV.config_name(config)
        log(
            f"{name}: general Malay {malay[name]['mean']:.4f} ± {malay[name]['std']:.4f}, "
            f"English macro-recall {english[name]['macro_recall']:.4f}"
        )
    best = choose(GRID, malay, english)
    best_name = CV.config_name(best)

    general = corpus.rows("malay_twitter")
    logits = np.concatenate([cv.logits[best_name][general], english[best_name]["logits"]])
    y = np.concatenate([corpus.labels[general], corpus.labels[english_test]])
    temperature = T.fit_temperature(logits, y)
    calibration = {
        "general malay (out of fold, last repeat)": round(
            T.expected_calibration_error(
                T.softmax(cv.logits[best_name][general] / temperature), corpus.labels[general]
            ),
            4,
        ),
        "english (held out)": round(
            T.expected_calibration_error(
                T.softmax(english[best_name]["logits"] / temperature), corpus.labels[english_test]
            ),
            4,
        ),
    }
    log(f"chose {best_name}, temperature {temperature:.3f}")

    shipped = fit_shipped(corpus, best, temperature)
    shipped.metadata = {
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "trained_on": "every post of the training files and the synthetic template posts",
        "training_files": list(T.FILES.values()),
        "synthetic_posts": len(corpus.rows("synthetic")) if best["synthetic_weight"] > 0 else 0,
        "features": {k: list(v) if isinstance(v, tuple) else v for k, v in FEATURES.items()},
        "spelling_normalisation": "kedah_analytics.classify.normalize.normalize_spelling",
        "model": best,
        "temperature": temperature,
        "seed": T.SEED,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(shipped.to_artifact(), args.out, compress=("zlib", 6), protocol=5)
    size_mb = args.out.stat().st_size / 1e6

    shipped_cv = malay[best_name]
    baseline_cv = malay["baseline"]
    metrics = {
        "model_name": shipped.name,
        "model_version": shipped.version,
        "artifact_megabytes": round(size_mb, 2),
        "malay_general_cross_validation": {
            "how": (
                f"{args.repeats} x {T.CV_FOLDS}-fold repeated stratified k-fold (strata label, seed {T.SEED}) "
                f"over the {n_general} general Malay tweets of {T.FILES['malay_twitter']}; test folds come "
                "only from that file; each fold trains on the English training part, the synthetic template "
                "posts, the whole politics file and the general tweets' training folds; featurizer "
                "vocabulary and idf fitted per fold"
            ),
            "folds": len(folds),
            "metric": "macro-F1 per fold; f1_per_class the mean over folds; confusion summed over folds",
            "shipped_model": shipped_cv,
            "baseline_tfidf_logreg_general_only": baseline_cv
            | {
                "what": "TF-IDF char 2-5 + word 1-2 grams, LogisticRegression, trained on the general "
                "tweets' training folds only"
            },
            "baseline_tfidf_logreg_general_and_politics": malay["baseline_with_politics"]
            | {"what": "the same baseline trained on the general training folds and the politics file"},
            "grid": {CV.config_name(c): malay[CV.config_name(c)] for c in GRID},
        },
        "english_held_out": {
            "how": (
                f"stratified {T.ENGLISH_HELD_OUT_SHARE:.0%} of the English file (seed {T.SEED}, the split of "
                "the earlier model), model trained on the other 80%, all Malay posts and the template posts"
            ),
            "posts": len(english_test),
            "shipped_model": {k: v for k, v in english[best_name].items() if k != "logits"},
            "floor_macro_recall": ENGLISH_RECALL_FLOOR,
            "earlier_model_65f600cbc100": {"macro_f1": 0.6732, "macro_recall": 0.675},
            "grid": {
                CV.config_name(c): {k: v for k, v in english[CV.config_name(c)].items() if k != "logits"}
                for c in GRID
            },
        },
        "selection": (
            "best mean general-Malay cross-validated macro-F1 with English held-out macro-recall >= floor"
        ),
        "expected_calibration_error_of_confidence": calibration,
        "shipped": shipped.metadata,
        "environment": {
            "python": platform.python_version(),
            "scikit_learn": sklearn.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
        },
        "training_seconds": round(time.perf_counter() - started),
    }
    args.metrics.write_text(T.dumps(metrics))

    print(
        f"General Malay tweets, macro-F1 over {len(folds)} folds ({args.repeats} x {T.CV_FOLDS}), "
        "mean ± std [min, max]:"
    )
    print(f"  shipped model                      {CV.describe(shipped_cv)}")
    print(f"  TF-IDF + LR (general tweets)       {CV.describe(baseline_cv)}")
    print(f"  TF-IDF + LR (general + politics)   {CV.describe(malay['baseline_with_politics'])}")
    e = english[best_name]
    print(
        f"English held-out ({len(english_test)} posts): macro-F1 {e['macro_f1']:.3f}, macro-recall {e['macro_recall']:.3f}"
    )
    print(f"Model {shipped.name} {shipped.version}: {size_mb:.1f} MB at {_shown(args.out)}")
    print(f"Figures in {_shown(args.metrics)}; {metrics['training_seconds']} s in all.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
