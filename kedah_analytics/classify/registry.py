"""Which sentiment classifier runs: ``KEDAH_CLASSIFIER`` (offline by default)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from kedah_analytics.classify.base import SentimentClassifier
from kedah_analytics.config.settings import CLASSIFIER, GEMINI_API_KEY, GEMINI_MODEL

if TYPE_CHECKING:  # google-genai loads only when Gemini is chosen
    from kedah_analytics.classify.gemini import ClassificationCache

CLASSIFIERS = CLASSIFIER.choices


def build_classifier(
    name: str | None = None,
    env: Mapping[str, str] | None = None,
    cache: ClassificationCache | None = None,
) -> SentimentClassifier:
    """The named classifier; Gemini needs KEDAH_GEMINI_API_KEY and falls back to the offline model."""
    env = os.environ if env is None else env
    name = (name or env.get(CLASSIFIER.name) or "offline").lower()
    if name == "offline":
        from kedah_analytics.classify.offline import OfflineSentimentModel

        return OfflineSentimentModel.load()
    if name == "lexicon":
        from kedah_analytics.classify.lexicon import LexiconSentiment

        return LexiconSentiment()
    if name == "vader":
        from kedah_analytics.classify.offline import VaderClassifier

        return VaderClassifier()
    if name == "gemini":
        from kedah_analytics.classify.gemini import GeminiSentimentClassifier, InMemoryCache
        from kedah_analytics.classify.offline import OfflineSentimentModel

        key = env.get(GEMINI_API_KEY.name, "")
        if not key.strip():
            raise ValueError(f"{CLASSIFIER.name}=gemini needs {GEMINI_API_KEY.name}")
        return GeminiSentimentClassifier(
            key,
            fallback=OfflineSentimentModel.load(),
            cache=cache or InMemoryCache(),
            model=GEMINI_MODEL.read(env) or "",
        )
    raise ValueError(f"unknown classifier {name!r}; {CLASSIFIER.name} is one of {', '.join(CLASSIFIERS)}")
