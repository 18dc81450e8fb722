"""Kedah's places: the reference table shipped with the project, and linking text to a place.

Linking matches every English and Malay alias as a whole phrase, case-insensitively, also
written without spaces (so ``#PantaiCenang`` and ``#alorstar`` match) and with ``Sg``/``Sg.``
read as ``Sungai``. When several places match, the longest alias wins, so "Kulim Hi-Tech Park"
is the park and not the town, and "Daerah Kulim" the district; among equally long matches a
specific place beats its city.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING

from kedah_analytics.config.paths import DATA_DIR

if TYPE_CHECKING:
    import pandas as pd

PLACES_CSV = DATA_DIR / "places.csv"
PLACE_COLUMNS = ["place_id", "name", "city", "district", "category", "lat", "lon", "aliases_en", "aliases_ms"]
CITIES = ("Langkawi", "Alor Setar", "Sungai Petani", "Kulim", "Jitra")


def load_places(path=PLACES_CSV) -> pd.DataFrame:
    """The places table with aliases as lists; raises ValueError on a malformed file."""
    import pandas as pd

    df = pd.read_csv(path, dtype={"place_id": str}, keep_default_na=False)
    missing = set(PLACE_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"{path}: missing column(s) {sorted(missing)}")
    for column in ("aliases_en", "aliases_ms"):
        df[column] = df[column].map(lambda s: [a.strip() for a in str(s).split("|") if a.strip()])
    if df["place_id"].duplicated().any():
        raise ValueError(
            f"{path}: duplicate place_id {df.loc[df['place_id'].duplicated(), 'place_id'].tolist()}"
        )
    unknown_cities = set(df["city"]) - set(CITIES)
    if unknown_cities:
        raise ValueError(f"{path}: unknown city {sorted(unknown_cities)}; cities are {CITIES}")
    outside = df[~df["lat"].between(5.0, 6.8) | ~df["lon"].between(99.5, 101.2)]
    if len(outside):
        raise ValueError(f"{path}: coordinates outside Kedah for {outside['place_id'].tolist()}")
    return df[PLACE_COLUMNS]


_SG = re.compile(r"\bsg\.?(?=\s)")
_NOT_WORD = re.compile(r"[^\w#\-']+")
# Where normalizing a text and the words appended to it (its hashtags) is not normalizing each and
# joining them with a space: a final "sg" is read as "sungai" only when a space follows it.
_FINAL_SG = re.compile(r"sg\.?\s*$")


def normalize_text(text: str) -> str:
    """Lower-case, ``sg``/``sg.`` read as ``sungai``, punctuation except ``#`` and ``-`` as spaces."""
    text = text.lower()
    text = _SG.sub("sungai", text)
    # Every run of whitespace is inside a run of _NOT_WORD, so this leaves single spaces alone.
    return _NOT_WORD.sub(" ", text).strip()


def normalize_joined(text: str, normalized: str, words: str) -> str:
    """``normalize_text(text + " " + words)``, given ``normalized`` = ``normalize_text(text)``: a
    post's text and its hashtags, read once for its topics and once more for its place."""
    if _FINAL_SG.search(text.lower()):
        return normalize_text(text + " " + words)
    tail = normalize_text(words)
    return f"{normalized} {tail}" if normalized and tail else normalized or tail


def alternation(words: list[str]) -> str:
    """A regex that matches what ``"|".join(words)`` matches when ``words`` run longest first, as a
    tree of common prefixes: at a position, the longest word that fits is tried first and a shorter
    one only if what follows fails, but the engine tries one branch per letter instead of every word
    (a post is scanned for some 400 aliases)."""
    tree: dict = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}
    return _branches(tree)


def _branches(node: dict) -> str:
    ends = "" in node
    branches = [re.escape(char) + _branches(child) for char, child in sorted(node.items()) if char]
    if not branches:
        return ""
    inner = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{inner})?" if ends else inner


@lru_cache(maxsize=8)
def _alias_pattern(aliases: tuple[str, ...]) -> re.Pattern[str]:
    """The pattern that finds any of ``aliases`` (longest first) as a word or hashtag: built once a
    process for the same places (every run that classifies builds a linker)."""
    return re.compile(rf"(?<![\w])#?({alternation(list(aliases))})(?![\w])")


@dataclass(frozen=True)
class PlaceMatch:
    place_id: str
    city: str
    alias: str


class PlaceLinker:
    """Finds the place a post talks about from the places' aliases."""

    def __init__(self, places: pd.DataFrame):
        self._places = places
        self._city_rank = {row.place_id: 1 if row.category == "city" else 0 for row in places.itertuples()}

    @cached_property
    def _aliases(self) -> list[tuple[str, str, str]]:
        found: dict[str, tuple[str, str, str]] = {}
        places = self._places
        rows: list[tuple[str, str, str, list[str], list[str]]] = list(
            zip(places["place_id"], places["name"], places["city"], places["aliases_en"], places["aliases_ms"],
                strict=True)
        )  # fmt: skip
        for place_id, name, city, aliases_en, aliases_ms in rows:
            for alias in [name, *aliases_en, *aliases_ms]:
                norm = normalize_text(alias)
                for variant in {norm, norm.replace(" ", "").replace("-", "")}:
                    if len(variant) < 3:
                        continue
                    current = found.get(variant)
                    # The same spelling naming two places: the more specific one keeps it.
                    if current is None or self._city_rank[current[1]] > self._city_rank[place_id]:
                        found[variant] = (variant, place_id, city)
        return sorted(found.values(), key=lambda a: -len(a[0]))

    @cached_property
    def _pattern(self) -> re.Pattern[str]:
        return _alias_pattern(tuple(alias for alias, _, _ in self._aliases))

    @cached_property
    def _lookup(self) -> dict[str, tuple[str, str]]:
        return {alias: (place_id, city) for alias, place_id, city in self._aliases}

    @cached_property
    def _names(self) -> dict[str, str]:
        return dict(zip(self._places["place_id"], self._places["name"], strict=True))

    def canonical_name(self, place_id: str) -> str:
        """The place's name as a keyword: lower-case, one spelling for all its aliases."""
        return self._names[place_id].lower()

    def matches(self, text: str) -> list[PlaceMatch]:
        """Every place named in ``text``, most specific first."""
        return self.matches_normalized(normalize_text(text or ""))

    def matches_normalized(self, normalized: str) -> list[PlaceMatch]:
        """:meth:`matches` of a text already read by :func:`normalize_text`."""
        seen: dict[str, PlaceMatch] = {}
        for alias in self._pattern.findall(normalized):  # the pattern's one group: the alias
            place_id, city = self._lookup[alias]
            if place_id not in seen:
                seen[place_id] = PlaceMatch(place_id, city, alias)
        return sorted(seen.values(), key=lambda p: (self._city_rank[p.place_id], -len(p.alias)))

    def link(self, text: str) -> PlaceMatch | None:
        """The one place a post is about: the most specific, longest-named match."""
        found = self.matches(text)
        return found[0] if found else None
