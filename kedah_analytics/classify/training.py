"""Training data and linear models of the offline sentiment model (``scripts/train_sentiment.py``
and ``bench/bench_sentiment.py`` share this module, :mod:`~kedah_analytics.classify.fold_features`
and :mod:`~kedah_analytics.classify.cross_validation`).

How the figures are made, so that they stay honest on posts the project has never seen:

- Malay, the headline: repeated stratified k-fold over the *general* Malay tweets alone
  (``malay_twitter_train.tsv``, strata = label, fixed seed), the distribution tourism posts look
  like. Each fold trains on the English training part, the synthetic template posts, the whole
  politics file and the general tweets' training folds, and is scored on its test fold of general
  tweets; a figure is the mean and standard deviation of macro-F1 over the folds. The plain
  baseline (TF-IDF + logistic regression, trained on the general tweets' training folds) is
  scored on the very same folds. The politics file is three-quarters negative and easier:
  folds that mix both files (:func:`malay_folds`, the earlier headline) flatter every model.
- English: one stratified 20% of the English file (the split the earlier model reported on),
  scored by a model trained on the other 80% and all of the Malay posts.
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
from sklearn.linear_model import SGDClassifier
from sklearn.model_selection import RepeatedStratifiedKFold, StratifiedKFold, train_test_split
from sklearn.svm import LinearSVC

from kedah_analytics.classify.base import LABELS
from kedah_analytics.classify.evaluation import read_labelled_tsv
from kedah_analytics.classify.features import ReadPost, read_post

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


def general_folds(
    corpus: Corpus, repeats: int = CV_REPEATS, folds: int = CV_FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(Malay training rows, test rows) per fold, the test rows drawn only from the general Malay
    tweets (strata = label); the training rows are the rest of the general tweets and the whole
    politics file."""
    general = corpus.rows("malay_twitter")
    politics = corpus.rows("malay_politics")
    if repeats > 1:
        splitter: Any = RepeatedStratifiedKFold(n_splits=folds, n_repeats=repeats, random_state=SEED)
    else:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=SEED)
    return [
        (np.sort(np.concatenate([general[tr], politics])), general[te])
        for tr, te in splitter.split(general, corpus.labels[general])
    ]


# ---------------------------------------------------------------------------------------------
# Linear models as (coef (n_features, 3), intercept (3,)) in LABELS order


def sample_weights(sources: np.ndarray, config: dict[str, Any]) -> np.ndarray:
    """Malay posts weigh ``malay_weight``, the general tweets that times ``general_weight`` (1 when
    absent), the template posts ``synthetic_weight`` and English posts 1."""
    weights = np.where(np.isin(sources, MALAY_SOURCES), config["malay_weight"], 1.0)
    weights = np.where(sources == "malay_twitter", weights * config.get("general_weight", 1.0), weights)
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


def dumps(data: dict[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"
