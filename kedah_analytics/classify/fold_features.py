"""Featurizer rows for any choice of fitting rows, from n-gram counts made once.

The featurizer's vocabulary and idf are fitted inside each fold on that fold's training rows only.
To keep 15 folds affordable on two cores, :class:`FoldFeatures` counts every post's n-grams once
over a superset vocabulary and derives each fold's vocabulary, idf and TF-IDF rows from those
counts with sparse operations; the result equals ``SentimentFeaturizer.fit_posts`` on the fold's
rows (up to column order, which a linear model ignores).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from kedah_analytics.classify.features import (
    DENSE_FEATURES,
    CharNgramTfidf,
    NgramTfidf,
    dense_features,
    tfidf_weigh,
    word_ngrams,
)
from kedah_analytics.classify.training import Corpus


def _select_columns(df: np.ndarray, min_df: int, max_features: int | None) -> np.ndarray:
    """The columns NgramTfidf.fit would keep: df >= min_df, the most frequent first, ties by the
    n-gram (the superset vocabulary's columns are in n-gram order, so by column number)."""
    keep = np.flatnonzero(df >= max(min_df, 1))
    if max_features is not None and len(keep) > max_features:
        order = np.lexsort((keep, -df[keep]))
        keep = np.sort(keep[order[:max_features]])
    return keep


class FoldFeatures:
    """The featurizer's rows for any choice of fitting rows, from n-gram counts made once."""

    def __init__(self, corpus: Corpus, features: dict[str, Any]):
        self.features = features
        posts = corpus.posts
        chars = CharNgramTfidf(features["char_ngram_range"], features["char_min_df"], None)
        chars.fit(p.lowered for p in posts)
        words = NgramTfidf(features["word_min_df"], None)
        lo, hi = features["word_ngram_range"]
        words.fit(word_ngrams(p.tokens, lo, hi) for p in posts)
        self.blocks = [
            (
                chars.count_rows(p.lowered for p in posts).tocsc(),
                features["char_min_df"],
                features["max_char_features"],
            ),
            (
                words.count_rows(word_ngrams(p.tokens, lo, hi) for p in posts).tocsc(),
                features["word_min_df"],
                features["max_word_features"],
            ),
        ]
        self.presence = [(counts > 0).astype(np.float32).tocsr() for counts, _, _ in self.blocks]
        self.dense = dense_features(posts, features["vader_mode"], features["use_lexicon"]) * np.float32(
            features.get("dense_weight", 1.0)
        )
        self.n_dense = len(DENSE_FEATURES)

    def fold(self, fit_rows: np.ndarray) -> FittedFold:
        columns = []
        for (_, min_df, max_features), presence in zip(self.blocks, self.presence, strict=True):
            df = np.asarray(presence[fit_rows].sum(axis=0)).ravel()
            keep = _select_columns(df, min_df, max_features)
            idf = (np.log((1 + len(fit_rows)) / (1 + df[keep])) + 1).astype(np.float32)
            columns.append((keep, idf))
        selected = [
            counts[:, keep].tocsr() for (counts, _, _), (keep, _) in zip(self.blocks, columns, strict=True)
        ]
        return FittedFold(selected, [idf for _, idf in columns], self.dense)


@dataclass
class FittedFold:
    """One fold's vocabulary (the kept count columns) and idf."""

    counts: list[sparse.csr_matrix]
    idf: list[np.ndarray]
    dense: np.ndarray

    def matrix(self, rows: np.ndarray) -> sparse.csr_matrix:
        blocks = [tfidf_weigh(c[rows], idf) for c, idf in zip(self.counts, self.idf, strict=True)]
        blocks.append(sparse.csr_matrix(self.dense[rows]))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)
