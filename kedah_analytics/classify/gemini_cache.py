"""The cache of sentiments Gemini has already been paid for, keyed by classifier and post text."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Protocol

from kedah_analytics.classify.base import Sentiment
from kedah_analytics.classify.normalize import coerce_text


def cache_key(text: str, classifier_name: str, classifier_version: str) -> str:
    """sha256 over the classifier's name and version and the post text (hex)."""
    digest = hashlib.sha256()
    for part in (classifier_name, classifier_version, coerce_text(text)):
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()


class ClassificationCache(Protocol):
    """Sentiments already paid for, by :func:`cache_key`."""

    def get_many(self, keys: Sequence[str]) -> dict[str, Sentiment]: ...

    def put_many(self, items: Mapping[str, Sentiment]) -> None: ...


class InMemoryCache:
    """A dict-backed :class:`ClassificationCache` (tests, one-off runs)."""

    def __init__(self) -> None:
        self._items: dict[str, Sentiment] = {}

    def get_many(self, keys: Sequence[str]) -> dict[str, Sentiment]:
        return {k: self._items[k] for k in keys if k in self._items}

    def put_many(self, items: Mapping[str, Sentiment]) -> None:
        self._items.update(items)

    def __len__(self) -> int:
        return len(self._items)


# ---------------------------------------------------------------------------------------------
# Results and telemetry
