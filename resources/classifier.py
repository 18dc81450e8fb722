"""The sentiment classifier the classified_posts asset uses."""

from __future__ import annotations

import dagster as dg

from kedah_analytics.classify.base import SentimentClassifier
from kedah_analytics.classify.lexicon import LexiconSentiment


class SentimentResource(dg.ConfigurableResource):
    """``lexicon``: VADER plus the Malay lexicon with Malay negation (offline, no download)."""

    classifier: str = "lexicon"

    def get_classifier(self) -> SentimentClassifier:
        if self.classifier == "lexicon":
            return LexiconSentiment()
        raise ValueError(f"unknown classifier {self.classifier!r}; known: lexicon")
