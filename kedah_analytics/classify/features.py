"""Text features shared by sentiment training and runtime: one code path for both.

:class:`SentimentFeaturizer` turns a raw post into one sparse row:

- TF-IDF character n-grams of each word (like scikit-learn's ``char_wb``);
- TF-IDF word n-grams, with the words a negator governs marked ``neg_`` (English and Malay:
  tak, tidak, bukan, x, tiada, jangan, belum and their social-media spellings);
- a few dense features: VADER lexicon valences of the words (negated words flipped, as VADER
  does), Malay lexicon counts with negated words counted apart, and the share of Malay function
  words. Running full VADER instead (``vader_mode="full"``, Malay negators shown to it as "not")
  scored no better in cross-validation and is ten times slower.

The post reading is in :mod:`~kedah_analytics.classify.reading`; the vectorizers, written for the
runtime's 5,000 posts/s on one core without scikit-learn, in
:mod:`~kedah_analytics.classify.vectorizers`. This module puts them together and re-exports the
names other modules and tests read from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy import sparse

from kedah_analytics.classify.normalize import (
    MALAY_NEGATORS,
    MAX_TEXT_CHARS,
    NEGATORS,
    clean_text,
    coerce_text,
    truncate,
    vader_text,
)
from kedah_analytics.classify.reading import (
    DENSE_FEATURES,
    MalayLexicon,
    ReadPost,
    dense_features,
    malay_lexicon,
    model_text,
    read_post,
    tokenize,
    vader,
)
from kedah_analytics.classify.vectorizers import (
    CharNgramTfidf,
    NgramTfidf,
    char_ngrams,
    tfidf_weigh,
    word_ngrams,
)

__all__ = [  # names other modules and tests read from here
    "DENSE_FEATURES",
    "MALAY_NEGATORS",
    "MAX_TEXT_CHARS",
    "NEGATORS",
    "CharNgramTfidf",
    "MalayLexicon",
    "NgramTfidf",
    "ReadPost",
    "SentimentFeaturizer",
    "char_ngrams",
    "clean_text",
    "coerce_text",
    "dense_features",
    "malay_lexicon",
    "model_text",
    "read_post",
    "tfidf_weigh",
    "tokenize",
    "truncate",
    "vader",
    "vader_text",
    "word_ngrams",
]


class SentimentFeaturizer:
    """Raw post texts -> one sparse feature row each (see the module docstring)."""

    def __init__(
        self,
        char_ngram_range: tuple[int, int] = (2, 5),
        word_ngram_range: tuple[int, int] = (1, 2),
        char_min_df: int = 3,
        word_min_df: int = 2,
        max_char_features: int | None = 150_000,
        max_word_features: int | None = 60_000,
        dense_weight: float = 1.0,
        vader_mode: str = "words",
        use_lexicon: bool = True,
    ):
        self.char_ngram_range = char_ngram_range
        self.word_ngram_range = word_ngram_range
        self.dense_weight = dense_weight
        if vader_mode not in ("full", "words", "none"):
            raise ValueError(f"vader_mode must be full, words or none, not {vader_mode!r}")
        self.vader_mode = vader_mode
        self.use_lexicon = use_lexicon
        self.chars = CharNgramTfidf(char_ngram_range, char_min_df, max_char_features)
        self.words = NgramTfidf(word_min_df, max_word_features)

    @property
    def uses_dense(self) -> bool:
        return self.vader_mode != "none" or self.use_lexicon

    def _word_docs(self, posts: Sequence[ReadPost]) -> Iterable[list[str]]:
        lo, hi = self.word_ngram_range
        return (word_ngrams(p.tokens, lo, hi) for p in posts)

    def fit(self, texts: Sequence[Any], y: Any = None) -> SentimentFeaturizer:
        self.fit_posts([read_post(t) for t in texts])
        return self

    def fit_posts(self, posts: Sequence[ReadPost]) -> SentimentFeaturizer:
        self.chars.fit(p.lowered for p in posts)
        self.words.fit(self._word_docs(posts))
        return self

    def transform(self, texts: Sequence[Any]) -> sparse.csr_matrix:
        return self.transform_posts([read_post(t) for t in texts])

    def transform_posts(self, posts: Sequence[ReadPost]) -> sparse.csr_matrix:
        blocks = [
            self.chars.transform(p.lowered for p in posts),
            self.words.transform(self._word_docs(posts)),
        ]
        if self.uses_dense:
            dense = dense_features(posts, self.vader_mode, self.use_lexicon)
            blocks.append(sparse.csr_matrix(dense * np.float32(self.dense_weight)))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def fit_transform(self, texts: Sequence[Any], y: Any = None) -> sparse.csr_matrix:
        posts = [read_post(t) for t in texts]
        return self.fit_posts(posts).transform_posts(posts)

    @property
    def n_features(self) -> int:
        return self.chars.n_features + self.words.n_features + (len(DENSE_FEATURES) if self.uses_dense else 0)

    def feature_names(self) -> list[str]:
        names = ["char:"] * self.chars.n_features
        for gram, i in self.chars.vocabulary.items():
            names[i] = f"char:{gram}"
        words = ["word:"] * self.words.n_features
        for gram, i in self.words.vocabulary.items():
            words[i] = f"word:{gram}"
        dense = [f"dense:{n}" for n in DENSE_FEATURES] if self.uses_dense else []
        return names + words + dense
