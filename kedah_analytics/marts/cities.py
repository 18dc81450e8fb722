"""City names as people type them: any case, the seeds' slugs (``alor-setar``), the Malay names
and spellings of the places table (``Alor Star``, ``Bandaraya Alor Setar``, ``Sg. Petani``), and
``All Kedah``; anything else is a ValueError that lists the valid cities, never a city of zeros."""

from __future__ import annotations

import re
from functools import cache

from kedah_analytics.marts.build import ALL_KEDAH
from kedah_analytics.places import CITIES, load_places

ALL_KEDAH_NAMES = ("all kedah", "all", "kedah", "seluruh kedah", "negeri kedah")


def city_key(text: str) -> str:
    """How names are compared: lower case, with ``-``, ``_``, ``.`` and runs of spaces as one space."""
    return re.sub(r"[\s\-_.]+", " ", text.casefold()).strip()


def city_slug(city: str) -> str:
    """``Alor Setar`` -> ``alor-setar``, the form the seeds' API used; ``All Kedah`` -> ``all-kedah``."""
    return city_key(city).replace(" ", "-")


@cache
def _names() -> dict[str, str]:
    names = {city_key(name): ALL_KEDAH for name in ALL_KEDAH_NAMES}
    places = load_places()
    for city in CITIES:
        names[city_key(city)] = city
        own = places[(places["city"] == city) & (places["category"] == "city")]
        for _, row in own.iterrows():
            for alias in [row["place_id"], row["name"], *row["aliases_en"], *row["aliases_ms"]]:
                names.setdefault(city_key(alias), city)
    return names


def valid_cities() -> list[str]:
    """What a city parameter may name: ``All Kedah`` and the five cities, with their slugs."""
    return [ALL_KEDAH, *CITIES]


def resolve_city(name: str | None) -> str:
    """The city's name as the marts store it (``All Kedah`` when ``name`` is empty or None)."""
    if name is None or not name.strip():
        return ALL_KEDAH
    found = _names().get(city_key(name))
    if found is None:
        choices = ", ".join(f"{city} ({city_slug(city)})" for city in valid_cities())
        raise ValueError(f"unknown city {name.strip()[:80]!r}: use one of {choices}")
    return found
