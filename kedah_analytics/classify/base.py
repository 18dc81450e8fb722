"""The sentiment interface every classifier implements (offline model, lexicon baseline, Gemini)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

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
