"""Which sentiment classifier runs: ``KEDAH_CLASSIFIER`` (offline by default), and its Gemini cache."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import psycopg

from kedah_analytics.classify.base import Sentiment, SentimentClassifier
from kedah_analytics.settings import CLASSIFIER, GEMINI_API_KEY, GEMINI_MODEL, PG_URL

CLASSIFIERS = ("offline", "lexicon", "vader", "gemini")


class PostgresClassificationCache:
    """``kedah.sentiment_cache``: results keyed by the post text's hash and the classifier version."""

    def __init__(self, url: str):
        self.url = url

    def get_many(self, keys: Sequence[str]) -> dict[str, Sentiment]:
        if not keys:
            return {}
        with psycopg.connect(self.url) as conn:
            rows = conn.execute(
                "SELECT cache_key, label, score, confidence FROM kedah.sentiment_cache WHERE cache_key = ANY(%s)",
                (list(keys),),
            ).fetchall()
        return {key: Sentiment(label, score, confidence) for key, label, score, confidence in rows}

    def put_many(self, items: Mapping[str, Sentiment]) -> None:
        if not items:
            return
        with psycopg.connect(self.url) as conn, conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO kedah.sentiment_cache (cache_key, label, score, confidence)
                   VALUES (%s, %s, %s, %s) ON CONFLICT (cache_key) DO NOTHING""",
                [(k, s.label, s.score, s.confidence) for k, s in items.items()],
            )


def build_classifier(
    name: str | None = None, env: Mapping[str, str] | None = None, cache_url: str | None = None
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
        cache = PostgresClassificationCache(cache_url) if cache_url else InMemoryCache()
        kwargs = {"model": env[GEMINI_MODEL.name]} if env.get(GEMINI_MODEL.name) else {}
        return GeminiSentimentClassifier(key, fallback=OfflineSentimentModel.load(), cache=cache, **kwargs)
    raise ValueError(f"unknown classifier {name!r}; {CLASSIFIER.name} is one of {', '.join(CLASSIFIERS)}")


def classifier_from_env(override: str | None = None) -> SentimentClassifier:
    """For the command line: ``--classifier`` or KEDAH_CLASSIFIER; Gemini caches in the warehouse
    when KEDAH_PG_URL is set."""
    return build_classifier(override, cache_url=PG_URL.read())
