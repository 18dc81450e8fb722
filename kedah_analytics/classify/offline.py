"""The offline sentiment model shipped with the project, and VADER as a reference classifier.

The model is a linear classifier over :class:`~kedah_analytics.classify.features.SentimentFeaturizer`
features, trained by ``scripts/train_sentiment.py`` on English and Malay tweets. Its artifact
(``kedah_analytics/data/models/sentiment.joblib``) holds the fitted featurizer, the weights and a
temperature fitted on cross-validated predictions, so that ``confidence`` (the top probability)
is calibrated. ``score`` is P(positive) - P(negative). Loading needs neither the network nor
scikit-learn.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from kedah_analytics.classify.base import LABELS, Sentiment, SentimentLabel
from kedah_analytics.classify.features import SentimentFeaturizer, read_post
from kedah_analytics.classify.normalize import clean_text

DEFAULT_MODEL_PATH = Path(__file__).resolve().parents[1] / "data" / "models" / "sentiment.joblib"
ARTIFACT_FORMAT = 1
# Rows per matrix product: bounds memory on a year's backfill without slowing small calls.
_CHUNK = 4096


class ModelArtifactError(RuntimeError):
    """The model file is missing, unreadable or of another format."""


@dataclass
class OfflineSentimentModel:
    """A :class:`~kedah_analytics.classify.base.SentimentClassifier` that runs on one core, offline."""

    featurizer: SentimentFeaturizer
    coef: np.ndarray  # (n_features, 3), columns in LABELS order
    intercept: np.ndarray  # (3,)
    temperature: float
    version: str
    name: str = "offline-tfidf-linear"
    metadata: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | Path | None = None) -> OfflineSentimentModel:
        """Load the shipped model, or the artifact at ``path``."""
        path = Path(path) if path is not None else DEFAULT_MODEL_PATH
        if not path.is_file():
            raise ModelArtifactError(
                f"no sentiment model at {path}; train one with `python scripts/train_sentiment.py`"
            )
        try:
            artifact = joblib.load(path)
        except Exception as exc:
            raise ModelArtifactError(f"cannot read the sentiment model at {path}: {exc}") from exc
        if not isinstance(artifact, dict) or artifact.get("format") != ARTIFACT_FORMAT:
            raise ModelArtifactError(f"{path} is not a format-{ARTIFACT_FORMAT} sentiment model artifact")
        if tuple(artifact["classes"]) != LABELS:
            raise ModelArtifactError(f"{path} has classes {artifact['classes']}, expected {LABELS}")
        model = cls.from_artifact(artifact)
        model.predict(["warm up: lexicons load on first use"])
        return model

    @classmethod
    def from_artifact(cls, artifact: dict[str, Any]) -> OfflineSentimentModel:
        model = cls(
            featurizer=artifact["featurizer"],
            coef=np.ascontiguousarray(artifact["coef"], dtype=np.float32),
            intercept=np.asarray(artifact["intercept"], dtype=np.float32),
            temperature=float(artifact["temperature"]),
            version=str(artifact["version"]),
            name=str(artifact.get("name", cls.name)),
            metadata=dict(artifact.get("metadata", {})),
        )
        if model.coef.shape != (model.featurizer.n_features, len(LABELS)):
            raise ModelArtifactError(
                f"weights of shape {model.coef.shape} do not fit {model.featurizer.n_features} features"
            )
        return model

    def to_artifact(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "name": self.name,
            "version": self.version,
            "classes": list(LABELS),
            "featurizer": self.featurizer,
            "coef": self.coef.astype(np.float32),
            "intercept": self.intercept.astype(np.float32),
            "temperature": self.temperature,
            "metadata": self.metadata,
        }

    def predict_proba(self, texts: Sequence[Any]) -> np.ndarray:
        """P(negative), P(neutral), P(positive) per text (LABELS order)."""
        return self._predict(texts)[0]

    def _predict(self, texts: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        probabilities = np.empty((len(texts), len(LABELS)), dtype=np.float64)
        empty = np.zeros(len(texts), dtype=bool)
        for start in range(0, len(texts), _CHUNK):
            posts = [read_post(t) for t in texts[start : start + _CHUNK]]
            features = self.featurizer.transform_posts(posts)
            logits = np.asarray(features @ self.coef, dtype=np.float64) + self.intercept
            probabilities[start : start + len(posts)] = _softmax(logits / self.temperature)
            empty[start : start + len(posts)] = [not p.clean for p in posts]
        return probabilities, empty

    def predict(self, texts: Sequence[Any]) -> list[Sentiment]:
        probabilities, empty = self._predict(list(texts))
        best = probabilities.argmax(axis=1)
        scores = np.clip(probabilities[:, 2] - probabilities[:, 0], -1.0, 1.0)
        confidence = probabilities[np.arange(len(best)), best]
        results: list[Sentiment] = []
        for i in range(len(best)):
            if empty[i]:
                # Nothing to read (an image-only post): neutral by definition, not by guess.
                results.append(Sentiment("neutral", 0.0, 1.0))
            else:
                results.append(Sentiment(LABELS[best[i]], float(scores[i]), float(confidence[i])))
        return results


def _softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=1, keepdims=True)
    return shifted


class VaderClassifier:
    """VADER alone (compound >= 0.05 positive, <= -0.05 negative): the reference to beat."""

    name = "vader"

    def __init__(self, threshold: float = 0.05):
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.threshold = threshold
        self.version = f"vaderSentiment-3.3.2/threshold-{threshold}"
        self._analyzer = SentimentIntensityAnalyzer()

    def predict(self, texts: Sequence[Any]) -> list[Sentiment]:
        results = []
        for text in texts:
            compound = self._analyzer.polarity_scores(text if isinstance(text, str) else clean_text(text))[
                "compound"
            ]
            label: SentimentLabel
            if compound >= self.threshold:
                label = "positive"
            elif compound <= -self.threshold:
                label = "negative"
            else:
                label = "neutral"
            results.append(Sentiment(label, float(compound), abs(float(compound))))
        return results


def load_timed(path: str | Path | None = None) -> tuple[OfflineSentimentModel, float]:
    """The model and the seconds its loading took (for benchmarks and tests that print it)."""
    started = time.perf_counter()
    model = OfflineSentimentModel.load(path)
    return model, time.perf_counter() - started
