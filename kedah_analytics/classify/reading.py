"""Reading one post for the sentiment features: cleaning, tokens with negation marked, lexicon
counts and the dense features (see :mod:`kedah_analytics.classify.features` for the whole model).

- tokens: words, hashtags, emoji and punctuation of the lower-cased, de-elongated, spelling-
  normalised text, with the words a negator governs marked ``neg_`` (English and Malay: tak,
  tidak, bukan, x, tiada, jangan, belum and their social-media spellings);
- dense features: VADER lexicon valences of the words (negated words flipped, as VADER does),
  Malay lexicon counts with negated words counted apart, and the share of Malay function words.
  Running full VADER instead (``vader_mode="full"``, Malay negators shown to it as "not") scored
  no better in cross-validation and is ten times slower.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from kedah_analytics.classify.normalize import (
    MALAY_SPELLINGS,
    NEGATORS,
    clean_text,
    normalize_spelling,
    vader_text,
)

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
