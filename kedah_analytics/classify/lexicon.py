"""The lexicon baseline: VADER for English plus the Malay sentiment lexicon, with Malay negation.

Chat spellings are normalised first (``sgt`` -> ``sangat``, ``x`` -> ``tak``; see
:mod:`kedah_analytics.classify.normalize`, shared with the offline model). Malay negators
(``tak``, ``tidak``, ``bukan``, ``x``, ...) are rewritten to English ``not`` before
VADER reads the text, so VADER's own negation handling flips "tak best" as it flips "not best";
the Malay lexicon score flips a word that follows a negator within two tokens. Fast (about
VADER's speed) and honest about its limits: REFERENCE.md puts VADER near 0.35 macro-F1 on Malay.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import lru_cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from kedah_analytics.classify.base import Sentiment, SentimentLabel
from kedah_analytics.classify.normalize import MALAY_NEGATORS, clean_text, normalize_spelling
from kedah_analytics.config.paths import DATA_DIR

_TOKEN = re.compile(r"[a-z0-9']+")
LEXICON_PATH = DATA_DIR / "sentiment" / "malay_lexicon.json"
# Everyday tourism words (and their chat spellings) that the general lexicon lacks.
TOURISM_POSITIVE = frozenset(
    {
        "sedap",
        "cantik",
        "best",
        "seronok",
        "lawa",
        "syok",
        "puas",
        "berbaloi",
        "bersih",
        "tenang",
        "mantap",
        "terbaik",
        "sdp",
        "cun",
        "indah",
        "menarik",
        "ramah",
        "murah",
    }
)
TOURISM_NEGATIVE = frozenset(
    {
        "mahal",
        "kotor",
        "teruk",
        "lambat",
        "sesak",
        "jem",
        "bosan",
        "hampa",
        "kecewa",
        "busuk",
        "tipu",
        "serabut",
        "panas",
        "penat",
        "rugi",
        "menyesal",
    }
)


@lru_cache(maxsize=1)
def malay_lexicon() -> tuple[frozenset[str], frozenset[str]]:
    data = json.loads(LEXICON_PATH.read_text(encoding="utf-8"))
    positive = frozenset(w.lower() for w in data["positive"]) | TOURISM_POSITIVE
    negative = frozenset(w.lower() for w in data["negative"]) | TOURISM_NEGATIVE
    return positive - TOURISM_NEGATIVE, negative - TOURISM_POSITIVE


def malay_score(tokens: Sequence[str]) -> float:
    """Lexicon polarity of Malay tokens in -1..1, a word after a negator counting the other way."""
    positive, negative = malay_lexicon()
    total = 0.0
    for i, token in enumerate(tokens):
        polarity = (token in positive) - (token in negative)
        if polarity and any(t in MALAY_NEGATORS for t in tokens[max(0, i - 2) : i]):
            polarity = -polarity
        total += polarity
    return math.tanh(total / 2.0)


@lru_cache(maxsize=1)
def _vader() -> SentimentIntensityAnalyzer:
    """VADER's analyzer, its lexicon files read once a process (about 20 ms each time, and every run
    builds its classifier); scoring only reads it."""
    return SentimentIntensityAnalyzer()


class LexiconSentiment:
    """VADER + Malay lexicon; the confidence is a heuristic of the score's size, not calibrated."""

    name = "lexicon-vader-malay"
    version = "1"

    def __init__(self) -> None:
        self._vader = _vader()

    def score(self, text: object) -> float:
        raw = normalize_spelling(clean_text(text).lower())
        tokens = _TOKEN.findall(raw)
        english = " ".join("not" if t in MALAY_NEGATORS else t for t in tokens) if tokens else raw
        vader = self._vader.polarity_scores(english)["compound"]
        combined = vader + malay_score(tokens)
        return max(-1.0, min(1.0, combined))

    def predict(self, texts: Sequence[object]) -> list[Sentiment]:
        out = []
        for text in texts:
            s = self.score(text)
            label: SentimentLabel = "positive" if s >= 0.05 else "negative" if s <= -0.05 else "neutral"
            out.append(Sentiment(label=label, score=round(s, 4), confidence=round(0.5 + abs(s) / 2, 4)))
        return out
