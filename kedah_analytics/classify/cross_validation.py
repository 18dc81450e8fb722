"""Cross-validated figures of the offline sentiment model's settings against the plain baseline.

The folds come from :mod:`~kedah_analytics.classify.training` (``general_folds``: test rows drawn
only from the general Malay tweets); every setting and the baseline are scored on the same folds,
with macro-F1 per fold, per-class F1 and a confusion matrix summed over the folds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from kedah_analytics.classify.base import LABELS
from kedah_analytics.classify.evaluation import scores
from kedah_analytics.classify.fold_features import FoldFeatures
from kedah_analytics.classify.training import MALAY_SOURCES, Corpus, fit_on

# The plain baselines: name -> the Malay files whose training rows they learn from.
BASELINES = {
    "baseline": ("malay_twitter",),
    "baseline_with_politics": ("malay_twitter", "malay_politics"),
}


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


def confusion(y: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Counts, rows the true label and columns the predicted one, in LABELS order."""
    index = {label: i for i, label in enumerate(LABELS)}
    matrix = np.zeros((len(LABELS), len(LABELS)), dtype=np.int64)
    for t, p in zip(y, predicted, strict=True):
        matrix[index[t], index[p]] += 1
    return matrix


@dataclass
class CVResult:
    """Per-setting fold scores, summed confusion matrices and out-of-fold logits."""

    fold_f1: dict[str, list[float]]
    logits: dict[str, np.ndarray]  # config name -> (n posts, 3); a later repeat overwrites
    class_f1: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    confusion: dict[str, np.ndarray] = field(default_factory=dict)

    def record(self, name: str, y: np.ndarray, predicted: np.ndarray) -> None:
        figures = scores(list(y), list(predicted))
        self.fold_f1.setdefault(name, []).append(float(figures["macro_f1"]))
        per_class = self.class_f1.setdefault(name, {label: [] for label in LABELS})
        for label in LABELS:
            per_class[label].append(float(figures[f"f1_{label}"]))
        self.confusion[name] = self.confusion.get(name, 0) + confusion(y, predicted)

    def report(self, name: str) -> dict[str, Any]:
        """Macro-F1 spread, mean per-class F1 and the summed confusion matrix of one setting."""
        return spread(self.fold_f1[name]) | {
            "f1_per_class": {k: round(float(np.mean(v)), 4) for k, v in self.class_f1[name].items()},
            "confusion": {
                "rows_true_columns_predicted": list(LABELS),
                "counts": self.confusion[name].tolist(),
            },
        }


def config_name(config: dict[str, Any]) -> str:
    return ",".join(f"{k}={v}" for k, v in config.items())


@dataclass(frozen=True, eq=False)
class Experiment:
    """What each figure below scores: the ``configs`` of the offline model, on the ``corpus`` and
    its n-gram ``features``; every fit also learns from the English training rows."""

    corpus: Corpus
    features: FoldFeatures
    configs: list[dict[str, Any]]
    english_train: np.ndarray

    def config_logits(self, fit_rows: np.ndarray, test_rows: np.ndarray) -> dict[str, np.ndarray]:
        """Each config (by name) fitted on ``fit_rows``, with features learned from those rows alone:
        its logits on ``test_rows``."""
        fitted = self.features.fold(fit_rows)
        X_fit, X_test = fitted.matrix(fit_rows), fitted.matrix(test_rows)
        out = {}
        for config in self.configs:
            coef, intercept = fit_on(self.corpus, config, fit_rows, X_fit)
            out[config_name(config)] = X_test @ coef + intercept
        return out


def malay_cross_validation(
    experiment: Experiment,
    folds: list[tuple[np.ndarray, np.ndarray]],
    baselines: dict[str, tuple[str, ...]] | None = None,
    log: Any = None,
) -> CVResult:
    """Malay figures per fold for each config, and for each plain baseline of ``baselines`` (name
    -> the files whose rows among the fold's Malay training rows it learns from)."""
    corpus, configs = experiment.corpus, experiment.configs
    synthetic = corpus.rows("synthetic")
    labels = np.array(LABELS)
    result = CVResult({}, {config_name(c): np.zeros((len(corpus.texts), 3)) for c in configs})
    for k, (malay_train, malay_test) in enumerate(folds):
        fit_rows = np.concatenate([experiment.english_train, malay_train, synthetic])
        y_test = corpus.labels[malay_test]
        for name, z in experiment.config_logits(fit_rows, malay_test).items():
            result.logits[name][malay_test] = z
            result.record(name, y_test, labels[z.argmax(axis=1)])
        for name, sources in (baselines or {}).items():
            rows = malay_train[np.isin(corpus.sources[malay_train], sources)]
            model = LinearBaseline().fit([corpus.texts[i] for i in rows], corpus.labels[rows])
            result.record(name, y_test, model.predict_labels([corpus.texts[i] for i in malay_test]))
        if log is not None:
            log(
                f"fold {k + 1}/{len(folds)}: "
                + ", ".join(f"{n[:40]} {v[-1]:.3f}" for n, v in result.fold_f1.items())
            )
    return result


def english_held_out(experiment: Experiment, english_test: np.ndarray) -> dict[str, dict[str, Any]]:
    """English held-out macro-F1 and macro-recall of each config, trained on the English training
    part, all the Malay posts and the synthetic posts; with the held-out logits."""
    corpus = experiment.corpus
    fit_rows = np.concatenate(
        [experiment.english_train, corpus.rows(*MALAY_SOURCES), corpus.rows("synthetic")]
    )
    y_test = corpus.labels[english_test]
    labels = np.array(LABELS)
    out: dict[str, dict[str, Any]] = {}
    for name, z in experiment.config_logits(fit_rows, english_test).items():
        figures = scores(list(y_test), list(labels[z.argmax(axis=1)]))
        out[name] = {
            "macro_f1": round(float(figures["macro_f1"]), 4),
            "macro_recall": round(float(figures["macro_recall"]), 4),
            "accuracy": round(float(figures["accuracy"]), 4),
            "logits": z,
        }
    return out


def cross_file(experiment: Experiment) -> dict[str, dict[str, float]]:
    """Macro-F1 on one Malay file of models that saw only the other (a shift of topic and label
    mix, as posts the project has not seen bring): each config, and the baseline as "baseline"."""
    corpus = experiment.corpus
    synthetic = corpus.rows("synthetic")
    labels = np.array(LABELS)
    out: dict[str, dict[str, float]] = {config_name(c): {} for c in experiment.configs}
    out["baseline"] = {}
    for train_source, test_source in (MALAY_SOURCES, MALAY_SOURCES[::-1]):
        train, test = corpus.rows(train_source), corpus.rows(test_source)
        fit_rows = np.concatenate([experiment.english_train, train, synthetic])
        direction = f"{train_source}->{test_source}"
        for name, z in experiment.config_logits(fit_rows, test).items():
            out[name][direction] = round(macro_f1(corpus.labels[test], labels[z.argmax(axis=1)]), 4)
        model = LinearBaseline().fit([corpus.texts[i] for i in train], corpus.labels[train])
        predicted = model.predict_labels([corpus.texts[i] for i in test])
        out["baseline"][direction] = round(macro_f1(corpus.labels[test], predicted), 4)
    return out
