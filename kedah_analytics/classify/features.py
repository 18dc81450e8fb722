"""Text features shared by sentiment training and runtime: one code path for both.

:class:`SentimentFeaturizer` turns a raw post into one sparse row:

- TF-IDF character n-grams of each word (like scikit-learn's ``char_wb``);
- TF-IDF word n-grams, with the words a negator governs marked ``neg_`` (English and Malay:
  tak, tidak, bukan, x, tiada, jangan, belum and their social-media spellings);
- a few dense features: VADER lexicon valences of the words (negated words flipped, as VADER
  does), Malay lexicon counts with negated words counted apart, and the share of Malay function
  words. Running full VADER instead (``vader_mode="full"``, Malay negators shown to it as "not")
  scored no better in cross-validation and is ten times slower.

The vectorizers are written here rather than taken from scikit-learn because the runtime must read
at least 5,000 posts/s on one core and load without importing scikit-learn: character n-grams are
computed once per distinct word and remembered. Their weighting is scikit-learn's
``TfidfVectorizer(sublinear_tf=True, smooth_idf=True, norm="l2")``.

Everything pickled into the shipped model is defined in this module, so joblib can import it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from kedah_analytics.classify.normalize import (
    MALAY_NEGATORS,
    MALAY_SPELLINGS,
    MAX_TEXT_CHARS,
    NEGATORS,
    clean_text,
    coerce_text,
    normalize_spelling,
    truncate,
    vader_text,
)

__all__ = [  # names other modules and tests read from here
    "MALAY_NEGATORS",
    "MAX_TEXT_CHARS",
    "NEGATORS",
    "clean_text",
    "coerce_text",
    "truncate",
    "vader_text",
]

# A negation reaches this many words forward, and stops at punctuation or a clause break.
NEGATION_SCOPE = 3
CLAUSE_BREAKS = frozenset("tapi tp but namun however walaupun although though".split())

# Frequent Malay function words and particles (standard, colloquial and northern); their share of a
# post's words tells the model how far to trust VADER (English) against the Malay lexicon.
MALAY_FUNCTION_WORDS = frozenset(
    """
    yang yg dan dgn dengan di ke ini ni itu tu saya sy aku aq kita kami dia depa mereka hang hampa
    awak korang ada nak hendak mahu mau pun lah kan je jer jek sangat sgt amat dah sudah telah akan
    boleh bleh bila kalau kalo tapi tp pula pulak lagi lg juga jugak dalam dlm pada oleh atau mcm
    macam kat dekat org orang nya ialah adalah apa apakah kenapa knp mana siapa memang sebab sbb
    kerana krn sahaja saja hanya semua banyak byk sikit sedikit pergi pi mai datang buat kena dapat
    dpt utk untuk dari dr daripada drpd tak tidak bukan tiada jangan belum tk tdk hari masa lepas
    sampai sini sana situ punya betul lebih paling cuma mesti perlu rasa tengok tgk
    """.split()
)

_ELONGATION_RE = re.compile(r"(\w)\1{2,}")
_REPEAT_RE = re.compile(r"(\w)\1+")
# Words (inner apostrophes kept), hashtags and mentions, punctuation runs, or one other symbol/emoji.
_TOKEN_RE = re.compile(r"[^\W_]+(?:['’][^\W_]+)*|[#@]\w+|[!?.,;:]+|[^\w\s]")
_PUNCT_BREAK = frozenset("!?.,;:")


# ---------------------------------------------------------------------------------------------
# Reading text


def model_text(clean: str) -> str:
    """The lower-cased, de-elongated, spelling-normalised form the n-grams read.

    "Sedaaaapppp" -> "sedaapp"; "X sgt best" -> "tak sangat best".
    """
    return normalize_spelling(_ELONGATION_RE.sub(r"\1\1", clean.lower()))


def tokenize(text: str) -> list[str]:
    """Word, hashtag, mention, emoji and punctuation tokens of a :func:`model_text`."""
    return _TOKEN_RE.findall(text)


# ---------------------------------------------------------------------------------------------
# Lexicons

SENTIMENT_DATA_DIR = Path(__file__).resolve().parents[1] / "data" / "sentiment"


@dataclass(frozen=True)
class MalayLexicon:
    positive: frozenset[str]
    negative: frozenset[str]

    @property
    def words(self) -> frozenset[str]:
        return self.positive | self.negative


def _read_json(name: str) -> Any:
    return json.loads((SENTIMENT_DATA_DIR / name).read_text(encoding="utf-8"))


@cache
def malay_lexicon() -> MalayLexicon:
    """The vendored mesolitica lexicon, corrected and extended by the project's own word list."""
    base = _read_json("malay_lexicon.json")
    extra = _read_json("malay_lexicon_extra.json")
    extra_pos = {w.lower() for w in extra["positive"]}
    extra_neg = {w.lower() for w in extra["negative"]}
    removed = {w.lower() for w in extra.get("remove", [])}
    positive = ({w.lower() for w in base["positive"]} - extra_neg - removed) | extra_pos
    negative = ({w.lower() for w in base["negative"]} - extra_pos - removed) | extra_neg
    return MalayLexicon(frozenset(positive), frozenset(negative))


@cache
def vader() -> Any:
    """VADER, faster: emoji replaced with one str.translate (the original loops per character), and
    texts with no VADER word skipped. Scores equal ``polarity_scores`` up to spacing around emoji.
    """
    from vaderSentiment.vaderSentiment import BOOSTER_DICT, SentimentIntensityAnalyzer, SentiText

    strip_punc = SentiText._strip_punc_if_word
    no_words = {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
    no_sentiment = {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}

    class FastVader(SentimentIntensityAnalyzer):
        def __init__(self) -> None:
            super().__init__()
            self.emoji_table = {ord(k): f" {v} " for k, v in self.emojis.items() if len(k) == 1}

        def polarity_scores(self, text: str) -> dict[str, float]:
            if not text.isascii():
                text = text.translate(self.emoji_table)
            text = text.strip()
            raw_words = text.split()
            if not raw_words:
                return dict(no_words)
            lexicon = self.lexicon
            if not any(strip_punc(w).lower() in lexicon for w in raw_words):
                # No word VADER knows: every valence is 0, and so is every score but neutral.
                return dict(no_sentiment)
            sentitext = SentiText(text)
            sentiments: list[float] = []
            words = sentitext.words_and_emoticons
            for i, item in enumerate(words):
                low = item.lower()
                if low in BOOSTER_DICT or (
                    low == "kind" and i < len(words) - 1 and words[i + 1].lower() == "of"
                ):
                    sentiments.append(0)
                    continue
                sentiments = self.sentiment_valence(0, sentitext, item, i, sentiments)
            sentiments = self._but_check(words, sentiments)
            return self.score_valence(sentiments, text)

    return FastVader()


# ---------------------------------------------------------------------------------------------
# One post, read once

DENSE_FEATURES: tuple[str, ...] = (
    "vader_compound",
    "vader_positive",
    "vader_negative",
    "vader_neutral",
    "malay_positive",
    "malay_negative",
    "malay_positive_negated",
    "malay_negative_negated",
    "malay_share",
    "vader_compound_x_not_malay",
    "malay_net_x_malay",
    "no_words",
)


@dataclass
class ReadPost:
    """What the features need from one post, computed once."""

    clean: str  # for VADER
    lowered: str  # for character n-grams
    tokens: list[str]  # negation-marked, for word n-grams
    lexicon_counts: tuple[int, int, int, int]  # positive, negative, positive negated, negative negated
    valence: tuple[float, float, int]  # VADER-lexicon word valences: positive sum, negative sum, zeros
    n_words: int
    n_malay: int


_POSITIVE, _NEGATIVE, _MALAY = 1, 2, 4
# word -> (flags, VADER valence); words repeat, so each is looked up once.
_WORD_INFO: dict[str, tuple[int, float]] = {}
_MAX_WORD_INFO = 500_000


def _word_info(word: str) -> tuple[int, float]:
    info = _WORD_INFO.get(word)
    if info is not None:
        return info
    lexicon = malay_lexicon()
    analyzer = vader()
    key = word
    if key not in lexicon.positive and key not in lexicon.negative and len(key) > 3:
        key = _REPEAT_RE.sub(r"\1", key)  # "sedaap" -> "sedap"
    flags = (
        (_POSITIVE if key in lexicon.positive else 0)
        | (_NEGATIVE if key in lexicon.negative else 0)
        | (_MALAY if word in MALAY_FUNCTION_WORDS else 0)
    )
    if word[0].isalnum():
        valence = analyzer.lexicon.get(word, 0.0)
    else:  # emoji: the valence of the words VADER would read for it
        described = analyzer.emojis.get(word)
        valence = sum(analyzer.lexicon.get(w, 0.0) for w in described.split()) if described else 0.0
    if len(_WORD_INFO) > _MAX_WORD_INFO:
        _WORD_INFO.clear()
    info = _WORD_INFO[word] = (flags, float(valence))
    return info


def read_post(value: Any) -> ReadPost:
    """Clean, tokenize, mark negation and count lexicon words of one post."""
    clean = clean_text(value)
    lowered = model_text(clean)
    out: list[str] = []
    pos = neg = pos_negated = neg_negated = n_words = n_malay = 0
    pos_sum = neg_sum = 0.0
    n_zero = 0
    remaining = 0
    pending = tokenize(lowered)
    pending.reverse()
    while pending:
        tok = pending.pop()
        first = tok[0]
        if first in _PUNCT_BREAK:
            remaining = 0
            out.append(tok)
            continue
        if first == "#" and len(tok) > 1:
            tok = tok[1:]
            first = tok[0]
        flags, valence = _word_info(tok)
        if not flags and first in "xt" and len(tok) > 3:
            # Negation written as one word: "xbest" -> "x best"; likewise "tkbest", "takbest".
            for prefix in ("x", "tk", "tak"):
                rest = tok[len(prefix) :]
                if tok.startswith(prefix) and len(rest) > 2 and _word_info(rest)[0] & (_POSITIVE | _NEGATIVE):
                    pending.extend((rest, MALAY_SPELLINGS.get(prefix, prefix)))
                    break
            else:
                prefix = ""
            if prefix:
                continue
        if not first.isalnum():  # emoji, symbols, @user
            out.append(tok)
            if valence > 0:
                pos_sum += valence + 1
            elif valence < 0:
                neg_sum += valence - 1
            continue
        n_words += 1
        if flags & _MALAY:
            n_malay += 1
        if tok in CLAUSE_BREAKS:
            remaining = 0
            out.append(tok)
            n_zero += 1
            continue
        if tok in NEGATORS or tok.endswith(("n't", "n’t")):
            remaining = NEGATION_SCOPE
            out.append(tok)
            n_zero += 1
            continue
        if remaining > 0:
            remaining -= 1
            out.append("neg_" + tok)
            if flags & _POSITIVE:
                pos_negated += 1
            elif flags & _NEGATIVE:
                neg_negated += 1
            valence *= -0.74  # VADER's negation scalar
        else:
            out.append(tok)
            if flags & _POSITIVE:
                pos += 1
            elif flags & _NEGATIVE:
                neg += 1
        if valence > 0:
            pos_sum += valence + 1
        elif valence < 0:
            neg_sum += valence - 1
        else:
            n_zero += 1
    return ReadPost(
        clean,
        lowered,
        out,
        (pos, neg, pos_negated, neg_negated),
        (pos_sum, neg_sum, n_zero),
        n_words,
        n_malay,
    )


def dense_features(
    posts: Sequence[ReadPost], vader_mode: str = "words", use_lexicon: bool = True
) -> np.ndarray:
    """The DENSE_FEATURES of each post, as float32 rows.

    ``vader_mode``: "full" runs VADER on the post; "words" sums VADER's word valences with this
    module's negation marking (about ten times faster, no rules for boosters, capitals or "but");
    "none" leaves the VADER columns at 0.
    """
    out = np.zeros((len(posts), len(DENSE_FEATURES)), dtype=np.float32)
    analyzer = vader() if vader_mode == "full" else None
    log1p = math.log1p
    for row, post in enumerate(posts):
        compound = 0.0
        if analyzer is not None and post.clean:
            scores = analyzer.polarity_scores(vader_text(post.clean))
            compound = scores["compound"]
            out[row, 0:4] = (compound, scores["pos"], scores["neg"], scores["neu"])
        elif vader_mode == "words":
            pos_sum, neg_sum, n_zero = post.valence
            total = pos_sum - neg_sum + n_zero
            if total > 0:
                raw = pos_sum + neg_sum
                compound = raw / math.sqrt(raw * raw + 15)
                out[row, 0:4] = (compound, pos_sum / total, -neg_sum / total, n_zero / total)
        if post.n_words == 0:
            out[row, 11] = 1.0
            continue
        share = post.n_malay / post.n_words
        out[row, 9] = compound * (1.0 - share)
        if use_lexicon:
            pos, neg, pos_negated, neg_negated = post.lexicon_counts
            out[row, 4:9] = (log1p(pos), log1p(neg), log1p(pos_negated), log1p(neg_negated), share)
            out[row, 10] = math.tanh(((pos + neg_negated) - (neg + pos_negated)) / 2) * share
    return out


# ---------------------------------------------------------------------------------------------
# Vectorizers


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


# ---------------------------------------------------------------------------------------------
# The featurizer


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
