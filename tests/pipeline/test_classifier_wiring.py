"""The classifier behind classified_posts: choice by name, the Postgres cache, per-post provenance."""

import pandas as pd
import pytest

from kedah_analytics.classify.base import Sentiment
from kedah_analytics.classify.gemini import AttributedSentiment
from kedah_analytics.classify.posts import classify_posts
from kedah_analytics.classify.registry import build_classifier
from kedah_analytics.places import PlaceLinker, load_places
from kedah_analytics.warehouse.state import PgSentimentCache


def test_the_cache_round_trips_through_postgres_and_is_idempotent(warehouse_url):
    cache = PgSentimentCache(warehouse_url)
    cache.put_many({"k1": Sentiment("positive", 0.8, 0.9)})
    cache.put_many({"k1": Sentiment("negative", -0.8, 0.9), "k2": Sentiment("neutral", 0.0, 0.6)})
    assert cache.get_many(["k1", "k2", "k3"]) == {
        "k1": Sentiment("positive", 0.8, 0.9),
        "k2": Sentiment("neutral", 0.0, 0.6),
    }


def test_classifiers_are_chosen_by_name_and_gemini_needs_its_key():
    assert build_classifier("offline", {}).name.startswith("offline")
    assert build_classifier("lexicon", {}).name.startswith("lexicon")
    with pytest.raises(ValueError, match="KEDAH_GEMINI_API_KEY"):
        build_classifier("gemini", {})
    with pytest.raises(ValueError, match="unknown classifier"):
        build_classifier("bert", {})


class HalfFallback:
    """A classifier that, like Gemini after a failed batch, hands some posts to its fallback."""

    name, version = "gemini", "test-model+prompt1"

    def predict(self, texts):
        return [r.sentiment for r in self.classify(texts)]

    def telemetry(self):
        return {}

    def classify(self, texts):
        return [
            AttributedSentiment(Sentiment("positive", 0.5, 0.7), *(("gemini", self.version) if i % 2 == 0
                                                             else ("offline-tfidf-linear", "abc")))
            for i, _ in enumerate(texts)
        ]  # fmt: skip


def test_each_post_names_the_classifier_that_produced_it():
    raw = pd.DataFrame(
        {
            "platform": "twitter", "post_id": ["1", "2"], "date": pd.Timestamp("2026-11-20").date(),
            "created_at": pd.Timestamp("2026-11-20T03:00Z"), "text": ["Pantai Cenang", "Kuah"],
            "author_id": ["a", "b"], "hashtags": [[], []], "like_count": [1, 2], "comment_count": [0, 0],
            "share_count": [0, 0], "view_count": [10, 10], "provider": "demo", "author_followers": [None, None],
        }
    )  # fmt: skip
    out = classify_posts(raw, PlaceLinker(load_places()), HalfFallback())
    assert out["classifier"].tolist() == ["gemini", "offline-tfidf-linear"]
    assert out["classifier_version"].tolist() == ["test-model+prompt1", "abc"]
