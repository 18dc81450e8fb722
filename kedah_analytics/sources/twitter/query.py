"""X recent-search queries: place terms and hashtags as X's query syntax, at most 512 characters.

Also what a tweet id says about itself: snowflake ids carry the time they were minted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime

TWITTER_EPOCH_MS = 1288834974657

_BARE_TERM = re.compile(r"[#@]?\w+")


def quote_term(term: str) -> str:
    """A term as X query syntax: hashtags and single words bare, anything else quoted."""
    term = " ".join(term.split())
    if _BARE_TERM.fullmatch(term):
        return term
    return '"' + term.replace('"', "") + '"'


def _drop_covered_terms(terms: list[str]) -> list[str]:
    """Terms whose match another term already implies (``Menara Alor Setar`` by ``Alor Setar``)."""
    tokens = [tuple(t.lower().split()) for t in terms]
    keep: list[int] = []
    for i, mine in enumerate(tokens):
        covered = False
        for j, other in enumerate(tokens):
            if i == j or other == mine or len(other) >= len(mine):
                continue
            if any(mine[k : k + len(other)] == other for k in range(len(mine) - len(other) + 1)):
                covered = True
                break
        if not covered and mine not in [tokens[k] for k in keep]:
            keep.append(i)
    return [terms[i] for i in keep]


def build_search_queries(
    terms: Iterable[str],
    hashtags: Iterable[str] = (),
    *,
    exclude_retweets: bool = True,
    max_length: int = 512,
) -> list[str]:
    """X recent-search queries covering every term and hashtag, each at most ``max_length`` chars.

    A space is AND and binds tighter than OR, so the alternatives are OR-ed inside parentheses and
    the operators that apply to all of them follow: ``(Langkawi OR "Alor Setar" OR #Kedah) -is:retweet``.
    """
    words = _drop_covered_terms([" ".join(t.split()) for t in terms if t.strip()])
    parts = [quote_term(t) for t in words]
    for tag in hashtags:
        tag = tag.strip()
        tag = tag if tag.startswith("#") else f"#{tag}"
        if tag.lower() not in (p.lower() for p in parts):
            parts.append(tag)
    suffix = " -is:retweet" if exclude_retweets else ""
    budget = max_length - len(suffix) - 2  # the parentheses
    queries: list[str] = []
    current: list[str] = []
    for part in parts:
        if len(part) > budget:
            raise ValueError(f"search term too long for one X query: {part!r}")
        if current and len(" OR ".join([*current, part])) > budget:
            queries.append(f"({' OR '.join(current)}){suffix}")
            current = []
        current.append(part)
    if current:
        queries.append(f"({' OR '.join(current)}){suffix}")
    return queries


def tweet_id_time(tweet_id: str | int) -> datetime:
    """When a tweet id was minted (snowflake ids carry their creation time)."""
    return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)
