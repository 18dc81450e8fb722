"""The sentiment interface every classifier implements (offline model, lexicon baseline, Gemini)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

# Sentiment records are shared with the warehouse (the Gemini cache), so they live in the domain.
from kedah_analytics.domain import LABELS, Sentiment, SentimentLabel

__all__ = [
    "LABELS",
    "AttributedSentiment",
    "FallbackClassifier",
    "Sentiment",
    "SentimentClassifier",
    "SentimentLabel",
]


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
