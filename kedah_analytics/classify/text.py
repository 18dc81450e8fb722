"""Language, topics, keywords and spam signals of a post's text: plain functions, no model."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import yaml

from kedah_analytics.config.paths import DATA_DIR
from kedah_analytics.places import alternation, normalize_text

TOPICS_PATH = DATA_DIR / "topics.yaml"
_WORD = re.compile(r"[a-z']+")
_URL = re.compile(r"https?://\S+|www\.\S+|wa\.me/\S+", re.IGNORECASE)
_HASHTAG = re.compile(r"#(\w+)")
# Every link _URL finds holds one of these, in lower case (the case-insensitive match of those
# letters adds only "ſ" for the optional "s"): most posts hold none and skip the pattern.
_LINK_MARKS = ("http", "www.", "wa.me")


def _may_link(lowered: str) -> bool:
    return any(mark in lowered for mark in _LINK_MARKS)


def _unlinked(lowered: str) -> str:
    """``_URL.sub(" ", lowered)`` of lower-cased text."""
    return _URL.sub(" ", lowered) if _may_link(lowered) else lowered


# Function words and chat spellings that give a language away in a short post.
MALAY_WORDS = frozenset(
    "yang dan di ke dari ini itu ni tu tak tidak nak mahu sangat sgt dengan dgn untuk utk juga lagi ada dah "
    "sudah boleh kita saya aku kami korang hang depa pun la lah kan je jer sahaja pergi pi jom cuti makan "
    "cantik sedap best gila betul memang kalau bila mana apa siapa bukan belum akan telah dalam atas bawah "
    "tempat hari malam pagi petang esok semalam ramai orang kat dekat nanti dulu baru lama sikit banyak".split()
)
ENGLISH_WORDS = frozenset(
    "the and is are was were to of in on at it this that for with we my our so very a an be have has had "
    "not but you they i me just really from will would can could amazing beautiful great love nice good bad "
    "trip holiday view place day night morning today time here there what when where".split()
)


@lru_cache(maxsize=1)
def topic_terms() -> dict[str, tuple[str, ...]]:
    data = yaml.safe_load(TOPICS_PATH.read_text(encoding="utf-8"))
    return {topic: tuple(t.lower() for t in spec["terms"]) for topic, spec in data.items()}


@lru_cache(maxsize=1)
def _topic_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    owner: dict[str, str] = {}
    for topic, terms in topic_terms().items():
        for term in terms:
            owner.setdefault(term, topic)
    return re.compile(rf"(?<![\w])({alternation(sorted(owner, key=len, reverse=True))})(?![\w])"), owner


def detect_language(text: str) -> str:
    """``en``, ``ms``, ``mixed`` (Manglish) or ``other``, from function-word counts."""
    words = _WORD.findall(_unlinked(text.lower()))
    ms = sum(map(MALAY_WORDS.__contains__, words))
    en = sum(map(ENGLISH_WORDS.__contains__, words))
    if ms + en == 0:
        return "other"
    if ms and en and min(ms, en) / (ms + en) >= 0.25:
        return "mixed"
    return "ms" if ms > en else "en"


def topics_of(text: str) -> list[str]:
    return topics_of_normalized(normalize_text(text))


def topics_of_normalized(normalized: str) -> list[str]:
    """:func:`topics_of` of a text already read by :func:`~kedah_analytics.places.normalize_text`."""
    pattern, owner = _topic_pattern()
    return sorted({owner[term] for term in pattern.findall(normalized)})


def normalize_hashtag(tag: str) -> str:
    return "#" + tag.lstrip("#").lower()


def hashtags_of(text: str, given: Iterable[str] = ()) -> list[str]:
    found = {normalize_hashtag(t) for t in _HASHTAG.findall(text)}
    found.update(normalize_hashtag(t) for t in given if t)
    return sorted(found)


# The lookahead names the alternatives' first letters: the engine then skips a position at once
# rather than trying two dozen phrases at each (4.4 -> 2.7 us a post; the same matches).
PROMO = re.compile(
    r"\b(?=[bcdfghklmoprtw])(promo|diskaun|discount|murah|harga|order now|klik link|click link|link in bio|whatsapp|wasap|"
    r"pm me|dm (?:me|now|for)|free gift|giveaway|follow me|cheap|best price|booking now|contact us|hubungi|"
    r"rm ?\d+|limited offer|tawaran)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SpamSignals:
    score: float
    is_spam: bool
    reasons: tuple[str, ...]


SPAM_THRESHOLD = 0.6


def spam_signals(text: str, hashtags: Sequence[str], duplicated_across_accounts: bool) -> SpamSignals:
    """Spam score in 0..1 from independent signals combined as 1 - prod(1 - w)."""
    weights: list[tuple[str, float]] = []
    urls = len(_URL.findall(text)) if _may_link(text.lower()) else 0
    if urls >= 2:
        weights.append(("link stuffing", 0.5))
    elif urls == 1:
        weights.append(("link", 0.1))
    if len(hashtags) >= 8:
        weights.append(("hashtag stuffing", 0.5))
    promo = len(PROMO.findall(text))
    if promo:
        weights.append(("promotional wording", min(0.6, 0.3 * promo)))
    if duplicated_across_accounts:
        weights.append(("same text from several accounts", 0.6))
    remaining = 1.0
    for _, w in weights:
        remaining *= 1.0 - w
    score = round(1.0 - remaining, 4)
    return SpamSignals(score, score >= SPAM_THRESHOLD, tuple(r for r, _ in weights))


_NOISE = re.compile(r"@\w+|\d+|[^\w\s]")


def near_duplicate_keys(texts: Sequence[str]) -> list[str]:
    """A fingerprint per text that ignores case, links, mentions, digits and punctuation."""
    return [_near_duplicate_key(text) for text in texts]


def _near_duplicate_key(text: str) -> str:
    return " ".join(_NOISE.sub(" ", _unlinked(text.lower())).split())


def duplicated_across_accounts(
    texts: Sequence[str],
    authors: Sequence[str | None],
    window_texts: Sequence[str] = (),
    window_authors: Sequence[str | None] = (),
) -> list[bool]:
    """True where the same (near-duplicate) text of at least 5 words comes from two or more accounts.

    ``window_*`` are the other posts the signal compares with (the classifier passes every
    platform's posts of the post's day and the day before, from the warehouse), so a post's flag
    does not depend on which other posts happened to share its run."""
    return duplicated_keys(
        near_duplicate_keys(texts), authors, near_duplicate_keys(window_texts), window_authors
    )


def duplicated_keys(
    keys: Sequence[str],
    authors: Sequence[str | None],
    window_keys: Sequence[str] = (),
    window_authors: Sequence[str | None] = (),
) -> list[bool]:
    """:func:`duplicated_across_accounts` of texts already fingerprinted (:func:`near_duplicate_keys`)."""
    return NearDuplicateIndex.of(window_keys, window_authors).duplicated(keys, authors)


def _account(author: object) -> str | None:
    """An author id as one value whatever frame it came from: None, NaN and pandas' NA are all "no
    author". pandas gives a column whose ids are all missing (Instagram's hashtag search names no
    author) as None and a column mixing them with ids as NaN, and counted as two accounts they made
    every Instagram post a copy of itself from another account."""
    if (
        author is None
        or (isinstance(author, float) and math.isnan(author))
        or type(author).__name__ == "NAType"
    ):
        return None
    return str(author)


def _accounts_by_key(keys: Sequence[str], authors: Sequence[object]) -> dict[str, set[str | None]]:
    """The accounts that posted each fingerprint of five words or more."""
    accounts: dict[str, set[str | None]] = {}
    for key, author in zip(keys, authors, strict=True):
        if len(key.split()) >= 5:
            account = author if type(author) is str else _account(author)
            names = accounts.get(key)
            if names is None:
                accounts[key] = {account}
            else:
                names.add(account)
    return accounts


class NearDuplicateIndex:
    """A window's fingerprints (:func:`near_duplicate_keys`) and the accounts that posted each: built
    once, it answers :func:`duplicated_keys` for any batch of posts against that window (the
    re-classification sensor asks it once for each platform of a day)."""

    __slots__ = ("accounts",)

    def __init__(self, accounts: dict[str, set[str | None]]):
        self.accounts = accounts

    @classmethod
    def of(cls, keys: Sequence[str], authors: Sequence[object]) -> NearDuplicateIndex:
        return cls(_accounts_by_key(keys, authors))

    def duplicated(self, keys: Sequence[str], authors: Sequence[object]) -> list[bool]:
        """True where a key of the batch has two or more accounts, the batch's and the window's."""
        batch = _accounts_by_key(keys, authors)
        window = self.accounts
        out = []
        for key in keys:
            names = batch.get(key)
            if names is None:
                out.append(False)
                continue
            other = window.get(key)
            out.append(len(names) > 1 or (other is not None and len(names | other) > 1))
        return out
