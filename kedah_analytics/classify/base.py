"""The sentiment interface every classifier implements (offline model, lexicon baseline, Gemini)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

SentimentLabel = Literal["positive", "neutral", "negative"]
LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")


@dataclass(frozen=True)
class Sentiment:
    """One post's sentiment: label, score in -1..1 (negative..positive), confidence in 0..1."""

    label: SentimentLabel
    score: float
    confidence: float


class SentimentClassifier(Protocol):
    name: str
    version: str

    def predict(self, texts: Sequence[str]) -> list[Sentiment]: ...


@dataclass(frozen=True)
class AttributedSentiment:
    """A post's sentiment and the classifier (name, version) that produced it."""

    sentiment: Sentiment
    classifier: str
    classifier_version: str


@runtime_checkable
class FallbackClassifier(SentimentClassifier, Protocol):
    """A classifier that may hand some posts to a fallback (Gemini to the offline model): it says
    per post which classifier answered, and reports what its calls cost."""

    def classify(self, texts: Sequence[str]) -> list[AttributedSentiment]: ...

    def telemetry(self) -> dict[str, Any]: ...
