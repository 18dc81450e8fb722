"""Training and cross-validating the offline sentiment model (``scripts/train_sentiment.py`` and
``bench/bench_sentiment.py`` share this module).

How the figures are made, so that they stay honest on posts the project has never seen:

- Malay: repeated stratified k-fold over *all* the Malay posts (both files, strata = file x label,
  fixed seed). Each fold trains on the English training part, the synthetic template posts and
  the Malay training folds, and is scored on its Malay test fold; a figure is the mean and
  standard deviation of macro-F1 over the folds. The plain baseline (TF-IDF + logistic
  regression, trained on the Malay files alone) is scored on the very same folds.
- English: one stratified 20% of the English file (the split the earlier model reported on),
  scored by a model trained on the other 80% and all of the Malay posts.

The featurizer's vocabulary and idf are fitted inside each fold on that fold's training rows only.
To keep 15 folds affordable on two cores, :class:`FoldFeatures` counts every post's n-grams once over
a superset vocabulary and derives each fold's vocabulary, idf and TF-IDF rows from those counts with
sparse operations; the result equals ``SentimentFeaturizer.fit_posts`` on the fold's rows (up to
column order, which a linear model ignores).
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize_scalar
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import RepeatedStratifiedKFold, train_test_split
from sklearn.svm import LinearSVC

from kedah_analytics.classify.base import LABELS
from kedah_analytics.classify.evaluation import read_labelled_tsv, scores
from kedah_analytics.classify.features import (
    DENSE_FEATURES,
    CharNgramTfidf,
    NgramTfidf,
    ReadPost,
    dense_features,
    read_post,
    tfidf_weigh,
    word_ngrams,
)

SEED = 20261121
ENGLISH_HELD_OUT_SHARE = 0.2
CV_REPEATS = 3
CV_FOLDS = 5
DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "sentiment"
FILES = {
    "english": "english_semeval_2013_2016.tsv",
    "malay_twitter": "malay_twitter_train.tsv",
    "malay_politics": "malay_twitter_politics.tsv",
}
MALAY_SOURCES = ("malay_twitter", "malay_politics")

# Short Malay posts made from the project's own word list (malay_lexicon_extra.json), so that
# travel words the tweets rarely use ("sedap", "mahal") and their negation ("tak sedap") carry
# weight. Only ever added to training rows; every figure is scored on real posts.
POSITIVE_TEMPLATES = (
    "{w}", "{w}!", "sangat {w}", "memang {w}", "{w} sangat", "{w} gila", "tempat ni {w}",
    "makanan dia {w}", "so {w}",
)  # fmt: skip
NEGATED_POSITIVE_TEMPLATES = (
    "tak {w}", "tidak {w}", "x {w}", "tak {w} langsung", "bukan {w}", "kurang {w}", "tak berapa {w}",
)  # fmt: skip
NEGATIVE_TEMPLATES = ("{w}", "sangat {w}", "{w} gila", "memang {w}", "tempat ni {w}")


# ---------------------------------------------------------------------------------------------
# Data


@dataclass
class Corpus:
    """Every training post once: texts, labels, source file ("synthetic" for template posts)."""

    texts: list[str]
    labels: np.ndarray
    sources: np.ndarray
    posts: list[ReadPost]

    def rows(self, *sources: str) -> np.ndarray:
        return np.flatnonzero(np.isin(self.sources, sources))


def synthetic_rows() -> list[tuple[str, str]]:
    words = json.loads((DATA_DIR / "malay_lexicon_extra.json").read_text(encoding="utf-8"))
    rows: list[tuple[str, str]] = []
    for w in words["positive"]:
        rows += [(t.format(w=w), "positive") for t in POSITIVE_TEMPLATES]
        rows += [(t.format(w=w), "negative") for t in NEGATED_POSITIVE_TEMPLATES]
    for w in words["negative"]:
        rows += [(t.format(w=w), "negative") for t in NEGATIVE_TEMPLATES]
    return rows


def load_corpus(data_dir: Path = DATA_DIR) -> Corpus:
    texts: list[str] = []
    labels: list[str] = []
    sources: list[str] = []
    for source, filename in FILES.items():
        t, y = read_labelled_tsv(data_dir / filename)
        texts += t
        labels += y
        sources += [source] * len(t)
    for text, label in synthetic_rows():
        texts.append(text)
        labels.append(label)
        sources.append("synthetic")
    return Corpus(texts, np.array(labels), np.array(sources), [read_post(t) for t in texts])


def english_split(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """Row numbers of the English training part and of the stratified 20% held out."""
    english = corpus.rows("english")
    train, held_out = train_test_split(
        english, test_size=ENGLISH_HELD_OUT_SHARE, stratify=corpus.labels[english], random_state=SEED
    )
    return np.sort(train), np.sort(held_out)


def malay_folds(
    corpus: Corpus, repeats: int = CV_REPEATS, folds: int = CV_FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(training rows, test rows) of the Malay posts for each fold, strata = file x label."""
    malay = corpus.rows(*MALAY_SOURCES)
    strata = np.char.add(corpus.sources[malay].astype(str), corpus.labels[malay].astype(str))
    splitter = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED)
    return [(malay[tr], malay[te]) for tr, te in splitter.split(malay, strata)]


# ---------------------------------------------------------------------------------------------
# Features per fold, from counts made once


def _select_columns(df: np.ndarray, min_df: int, max_features: int | None) -> np.ndarray:
    """The columns NgramTfidf.fit would keep: df >= min_df, the most frequent first, ties by the
    n-gram (the superset vocabulary's columns are in n-gram order, so by column number)."""
    keep = np.flatnonzero(df >= max(min_df, 1))
    if max_features is not None and len(keep) > max_features:
        order = np.lexsort((keep, -df[keep]))
        keep = np.sort(keep[order[:max_features]])
    return keep


class FoldFeatures:
    """The featurizer's rows for any choice of fitting rows, from n-gram counts made once."""

    def __init__(self, corpus: Corpus, features: dict[str, Any]):
        self.features = features
        posts = corpus.posts
        chars = CharNgramTfidf(features["char_ngram_range"], features["char_min_df"], None)
        chars.fit(p.lowered for p in posts)
        words = NgramTfidf(features["word_min_df"], None)
        lo, hi = features["word_ngram_range"]
        words.fit(word_ngrams(p.tokens, lo, hi) for p in posts)
        self.blocks = [
            (
                chars.count_rows(p.lowered for p in posts).tocsc(),
                features["char_min_df"],
                features["max_char_features"],
            ),
            (
                words.count_rows(word_ngrams(p.tokens, lo, hi) for p in posts).tocsc(),
                features["word_min_df"],
                features["max_word_features"],
            ),
        ]
        self.presence = [(counts > 0).astype(np.float32).tocsr() for counts, _, _ in self.blocks]
        self.dense = dense_features(posts, features["vader_mode"], features["use_lexicon"]) * np.float32(
            features.get("dense_weight", 1.0)
        )
        self.n_dense = len(DENSE_FEATURES)

    def fold(self, fit_rows: np.ndarray) -> FittedFold:
        columns = []
        for (_, min_df, max_features), presence in zip(self.blocks, self.presence, strict=True):
            df = np.asarray(presence[fit_rows].sum(axis=0)).ravel()
            keep = _select_columns(df, min_df, max_features)
            idf = (np.log((1 + len(fit_rows)) / (1 + df[keep])) + 1).astype(np.float32)
            columns.append((keep, idf))
        selected = [
            counts[:, keep].tocsr() for (counts, _, _), (keep, _) in zip(self.blocks, columns, strict=True)
        ]
        return FittedFold(selected, [idf for _, idf in columns], self.dense)


@dataclass
class FittedFold:
    """One fold's vocabulary (the kept count columns) and idf."""

    counts: list[sparse.csr_matrix]
    idf: list[np.ndarray]
    dense: np.ndarray

    def matrix(self, rows: np.ndarray) -> sparse.csr_matrix:
        blocks = [tfidf_weigh(c[rows], idf) for c, idf in zip(self.counts, self.idf, strict=True)]
        blocks.append(sparse.csr_matrix(self.dense[rows]))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)


# ---------------------------------------------------------------------------------------------
# Linear models as (coef (n_features, 3), intercept (3,)) in LABELS order


def sample_weights(sources: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    weights = np.where(np.isin(sources, MALAY_SOURCES), config["malay_weight"], 1.0)
    return np.where(sources == "synthetic", config["synthetic_weight"], weights)


def fit_linear(
    config: dict[str, Any], X: sparse.csr_matrix, y: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    model: Any
    if config["kind"] == "sgd_log":
        model = SGDClassifier(
            loss="log_loss",
            alpha=config["alpha"],
            class_weight="balanced",
            max_iter=30,
            tol=None,
            random_state=SEED,
        )
    elif config["kind"] == "linear_svc":
        model = LinearSVC(C=config["C"], class_weight="balanced", random_state=SEED, max_iter=5000)
    else:
        raise ValueError(config["kind"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y, sample_weight=w)
    assert tuple(model.classes_) == LABELS, model.classes_
    return model.coef_.T.astype(np.float64), model.intercept_.astype(np.float64)


def fit_on(
    corpus: Corpus, config: dict[str, Any], fit_rows: np.ndarray, X_fit: sparse.csr_matrix
) -> tuple[np.ndarray, np.ndarray]:
    """``config``'s model on the rows ``X_fit`` holds (synthetic posts left out at weight 0)."""
    keep = np.arange(len(fit_rows))
    if config["synthetic_weight"] <= 0:
        keep = np.flatnonzero(corpus.sources[fit_rows] != "synthetic")
    rows = fit_rows[keep]
    return fit_linear(config, X_fit[keep], corpus.labels[rows], sample_weights(corpus.sources[rows], config))


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising the log-loss of softmax(logits / T) (calibrates confidence)."""
    target = np.searchsorted(np.array(LABELS), y)

    def nll(log_t: float) -> float:
        p = softmax(logits / np.exp(log_t))
        return float(-np.mean(np.log(p[np.arange(len(y)), target] + 1e-12)))

    result = minimize_scalar(nll, bounds=(-4, 4), method="bounded")
    return float(np.exp(result.x))


def expected_calibration_error(probabilities: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    confidence = probabilities.max(axis=1)
    correct = np.array(LABELS)[probabilities.argmax(axis=1)] == y
    edges = np.linspace(0, 1, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        inside = (confidence > lo) & (confidence <= hi)
        if inside.any():
            ece += inside.mean() * abs(correct[inside].mean() - confidence[inside].mean())
    return float(ece)


# ---------------------------------------------------------------------------------------------
# The plain baseline


class LinearBaseline:
    """TF-IDF character 2-5 and word 1-2 grams, logistic regression (scikit-learn defaults)."""

    name = "tfidf-logreg-baseline"

    def fit(self, texts: list[str], labels: np.ndarray) -> LinearBaseline:
        self.chars = TfidfVectorizer(analyzer="char", ngram_range=(2, 5), min_df=2, sublinear_tf=True)
        self.words = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        X = sparse.hstack([self.chars.fit_transform(texts), self.words.fit_transform(texts)], format="csr")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            self.model = LogisticRegression(max_iter=300).fit(X, labels)
        return self

    def predict_labels(self, texts: list[str]) -> np.ndarray:
        X = sparse.hstack([self.chars.transform(texts), self.words.transform(texts)], format="csr")
        return np.asarray(self.model.predict(X))


# ---------------------------------------------------------------------------------------------
# Cross-validation


def macro_f1(y: np.ndarray, predicted: np.ndarray) -> float:
    return float(scores(list(y), list(predicted))["macro_f1"])


def spread(values: list[float]) -> dict[str, Any]:
    a = np.asarray(values)
    return {
        "mean": round(float(a.mean()), 4),
        "std": round(float(a.std(ddof=1)) if len(a) > 1 else 0.0, 4),
        "min": round(float(a.min()), 4),
        "max": round(float(a.max()), 4),
        "folds": [round(float(v), 4) for v in a],
    }


def describe(figures: dict[str, Any]) -> str:
    """ "0.652 ± 0.021 [0.621, 0.689]" for a :func:`spread`."""
    return f"{figures['mean']:.3f} ± {figures['std']:.3f} [{figures['min']:.3f}, {figures['max']:.3f}]"


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


@dataclass
class CVResult:
    """Per-config Malay fold scores and out-of-fold logits (the first repeat's, for calibration)."""

    fold_f1: dict[str, list[float]]
    logits: dict[str, np.ndarray]  # config name -> (n posts, 3), rows of the Malay posts


def config_name(config: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in config.items())


def malay_cross_validation(
    corpus: Corpus,
    features: FoldFeatures,
    configs: list[dict[str, Any]],
    folds: list[tuple[np.ndarray, np.ndarray]],
    english_train: np.ndarray,
    baseline: bool = True,
    log: Any = None,
) -> CVResult:
    """Malay macro-F1 per fold for each config (and the Malay-only baseline, as "baseline")."""
    synthetic = corpus.rows("synthetic")
    labels = np.array(LABELS)
    fold_f1: dict[str, list[float]] = {config_name(c): [] for c in configs}
    logits = {config_name(c): np.zeros((len(corpus.texts), 3)) for c in configs}
    if baseline:
        fold_f1["baseline"] = []
    for k, (malay_train, malay_test) in enumerate(folds):
        fit_rows = np.concatenate([english_train, malay_train, synthetic])
        fitted = features.fold(fit_rows)
        X_fit = fitted.matrix(fit_rows)
        X_test = fitted.matrix(malay_test)
        y_test = corpus.labels[malay_test]
        for config in configs:
            name = config_name(config)
            coef, intercept = fit_on(corpus, config, fit_rows, X_fit)
            z = X_test @ coef + intercept
            logits[name][malay_test] = z  # a later repeat overwrites: one out-of-fold set
            fold_f1[name].append(macro_f1(y_test, labels[z.argmax(axis=1)]))
        if baseline:
            model = LinearBaseline().fit([corpus.texts[i] for i in malay_train], corpus.labels[malay_train])
            predicted = model.predict_labels([corpus.texts[i] for i in malay_test])
            fold_f1["baseline"].append(macro_f1(y_test, predicted))
        if log is not None:
            log(
                f"fold {k + 1}/{len(folds)}: "
                + ", ".join(f"{n[:40]} {v[-1]:.3f}" for n, v in fold_f1.items())
            )
    return CVResult(fold_f1, logits)


def english_held_out(
    corpus: Corpus,
    features: FoldFeatures,
    configs: list[dict[str, Any]],
    english_train: np.ndarray,
    english_test: np.ndarray,
) -> dict[str, dict[str, Any]]:
    """English held-out macro-F1 and macro-recall of each config, trained on the English training
    part, all the Malay posts and the synthetic posts; with the held-out logits."""
    fit_rows = np.concatenate([english_train, corpus.rows(*MALAY_SOURCES), corpus.rows("synthetic")])
    fitted = features.fold(fit_rows)
    X_fit = fitted.matrix(fit_rows)
    X_test = fitted.matrix(english_test)
    y_test = corpus.labels[english_test]
    labels = np.array(LABELS)
    out: dict[str, dict[str, Any]] = {}
    for config in configs:
        coef, intercept = fit_on(corpus, config, fit_rows, X_fit)
        z = X_test @ coef + intercept
        figures = scores(list(y_test), list(labels[z.argmax(axis=1)]))
        out[config_name(config)] = {
            "macro_f1": round(float(figures["macro_f1"]), 4),
            "macro_recall": round(float(figures["macro_recall"]), 4),
            "accuracy": round(float(figures["accuracy"]), 4),
            "logits": z,
        }
    return out


def cross_file(
    corpus: Corpus,
    features: FoldFeatures,
    configs: list[dict[str, Any]],
    english_train: np.ndarray,
) -> dict[str, dict[str, float]]:
    """Macro-F1 on one Malay file of models that saw only the other (a shift of topic and label
    mix, as posts the project has not seen bring): each config, and the baseline as "baseline"."""
    synthetic = corpus.rows("synthetic")
    labels = np.array(LABELS)
    out: dict[str, dict[str, float]] = {config_name(c): {} for c in configs}
    out["baseline"] = {}
    for train_source, test_source in (MALAY_SOURCES, MALAY_SOURCES[::-1]):
        train, test = corpus.rows(train_source), corpus.rows(test_source)
        fit_rows = np.concatenate([english_train, train, synthetic])
        fitted = features.fold(fit_rows)
        X_fit, X_test = fitted.matrix(fit_rows), fitted.matrix(test)
        direction = f"{train_source}->{test_source}"
        for config in configs:
            coef, intercept = fit_on(corpus, config, fit_rows, X_fit)
            predicted = labels[(X_test @ coef + intercept).argmax(axis=1)]
            out[config_name(config)][direction] = round(macro_f1(corpus.labels[test], predicted), 4)
        model = LinearBaseline().fit([corpus.texts[i] for i in train], corpus.labels[train])
        predicted = model.predict_labels([corpus.texts[i] for i in test])
        out["baseline"][direction] = round(macro_f1(corpus.labels[test], predicted), 4)
    return out
