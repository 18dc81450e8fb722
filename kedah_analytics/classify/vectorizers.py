"""TF-IDF vectorizers of character and word n-grams, written for the runtime's speed.

They are written here rather than taken from scikit-learn because the runtime must read at
least 5,000 posts/s on one core and load without importing scikit-learn: character n-grams are
computed once per distinct word and remembered. Their weighting is scikit-learn's
``TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm="l2")``. They are pickled into the
shipped model, so they stay importable from this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from scipy import sparse


def char_ngrams(word: str, lo: int, hi: int) -> list[str]:
    """Character n-grams of one word padded with spaces (scikit-learn's char_wb)."""
    padded = f" {word} "
    size = len(padded)
    return [padded[i : i + n] for n in range(lo, hi + 1) for i in range(size - n + 1)]


def word_ngrams(tokens: Sequence[str], lo: int, hi: int) -> list[str]:
    grams: list[str] = list(tokens) if lo <= 1 else []
    for n in range(max(lo, 2), hi + 1):
        grams.extend(" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
    return grams


def tfidf_weigh(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Count rows -> sublinear tf x idf, l2-normalised rows (``counts`` is changed in place)."""
    m = counts
    np.log(m.data, out=m.data)
    m.data += 1
    m.data *= idf[m.indices]
    row_nnz = np.diff(m.indptr)
    squares = np.bincount(
        np.repeat(np.arange(m.shape[0]), row_nnz), weights=np.square(m.data), minlength=m.shape[0]
    )
    norms = np.sqrt(squares).astype(np.float32)
    norms[norms == 0] = 1.0
    m.data /= np.repeat(norms, row_nnz)
    return m


class NgramTfidf:
    """A vocabulary with idf weights; rows get sublinear tf x idf, l2-normalized.

    Column ids start at 1 (column 0 stays empty) so that ``filter(None, ...)`` can drop unknown
    n-grams at C speed.
    """

    def __init__(self, min_df: int = 2, max_features: int | None = None):
        self.min_df = min_df
        self.max_features = max_features
        self.vocabulary: dict[str, int] = {}
        self.idf = np.zeros(1, dtype=np.float32)

    def fit(self, docs: Iterable[Iterable[str]]) -> NgramTfidf:
        df: Counter[str] = Counter()
        n_docs = 0
        for grams in docs:
            df.update(set(grams))
            n_docs += 1
        kept = [(g, c) for g, c in df.items() if c >= self.min_df]
        # Most frequent first, ties by the n-gram itself, so the vocabulary is deterministic.
        kept.sort(key=lambda gc: (-gc[1], gc[0]))
        if self.max_features is not None:
            kept = kept[: self.max_features]
        kept.sort(key=lambda gc: gc[0])
        self.vocabulary = {g: i for i, (g, _) in enumerate(kept, start=1)}
        counts = np.array([c for _, c in kept], dtype=np.float64)
        idf = np.log((1 + n_docs) / (1 + counts)) + 1
        self.idf = np.concatenate([[0.0], idf]).astype(np.float32)
        return self

    @property
    def n_features(self) -> int:
        return len(self.vocabulary) + 1

    def ids(self, grams: Iterable[str]) -> filter:
        return filter(None, map(self.vocabulary.get, grams))

    def counts(self, indices: list[int], indptr: list[int]) -> sparse.csr_matrix:
        """Raw n-gram counts from concatenated per-row column ids (repeats are counts)."""
        ind = np.asarray(indices, dtype=np.int32)
        ptr = np.asarray(indptr, dtype=np.int64)
        m = sparse.csr_matrix(
            (np.ones(len(ind), dtype=np.float32), ind, ptr), shape=(len(ptr) - 1, self.n_features)
        )
        m.sum_duplicates()
        return m

    def matrix(self, indices: list[int], indptr: list[int]) -> sparse.csr_matrix:
        """TF-IDF rows from concatenated per-row column ids (repeats are counts)."""
        return tfidf_weigh(self.counts(indices, indptr), self.idf)

    def _ids_of(self, docs: Iterable[Iterable[str]]) -> tuple[list[int], list[int]]:
        indices: list[int] = []
        indptr = [0]
        for grams in docs:
            indices.extend(self.ids(grams))
            indptr.append(len(indices))
        return indices, indptr

    def transform(self, docs: Iterable[Iterable[str]]) -> sparse.csr_matrix:
        return self.matrix(*self._ids_of(docs))

    def count_rows(self, docs: Iterable[Iterable[str]]) -> sparse.csr_matrix:
        """Raw counts over the vocabulary (training refits idf per fold from them)."""
        return self.counts(*self._ids_of(docs))


class CharNgramTfidf(NgramTfidf):
    """Character n-grams within words; each distinct word's ids are computed once and remembered."""

    _MAX_REMEMBERED = 300_000

    def __init__(
        self, ngram_range: tuple[int, int] = (2, 5), min_df: int = 2, max_features: int | None = None
    ):
        super().__init__(min_df, max_features)
        self.ngram_range = ngram_range
        self._word_ids: dict[str, tuple[int, ...]] = {}

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_word_ids"] = {}
        return state

    def _grams_of_text(self, text: str) -> set[str]:
        lo, hi = self.ngram_range
        grams: set[str] = set()
        for word in set(text.split()):
            grams.update(char_ngrams(word, lo, hi))
        return grams

    def fit(self, docs: Iterable[Iterable[str]]) -> CharNgramTfidf:
        super().fit(self._grams_of_text(text) for text in docs)  # type: ignore[arg-type]
        self._word_ids = {}
        return self

    def _ids_of(self, docs: Iterable[Iterable[str]]) -> tuple[list[int], list[int]]:
        lo, hi = self.ngram_range
        remembered = self._word_ids
        if len(remembered) > self._MAX_REMEMBERED:
            remembered.clear()
        ids = self.ids
        indices: list[int] = []
        indptr = [0]
        extend = indices.extend
        for text in docs:
            for word in text.split():  # type: ignore[attr-defined]
                word_ids = remembered.get(word)
                if word_ids is None:
                    word_ids = remembered[word] = tuple(ids(char_ngrams(word, lo, hi)))
                extend(word_ids)
            indptr.append(len(indices))
        return indices, indptr
