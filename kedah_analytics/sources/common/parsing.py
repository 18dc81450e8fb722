"""Reading values out of provider payloads, the same way for every source.

Two kinds of readers. The lenient ones (``parse_time``, ``int_or_none``, ``mapping_or_empty``) read
a value of the wrong type or shape as ``None``. The strict ones (``count``, ``post_time``,
``item_id``, ``optional_text``, ``json_object``, ``optional_object``) are for the fields a stored
row depends on: a value that is absent reads as ``None``, but a value that is present and unusable
(a negative count, ``"²"``, 2**63, the year 1, a list where an id belongs) raises
:class:`BadValue`, and the item is quarantined with that reason instead of being stored wrong or
failing its partition.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

# A hashtag holds at least one letter (or underscore): ``#2022`` is not a hashtag on any platform.
_HASHTAG_RE = re.compile(r"#(\w*[^\W\d]\w*)")

BIGINT_MAX = 2**63 - 1
# Posts older than the platforms themselves, or from a future beyond any clock skew, are bad input.
EARLIEST_YEAR = 2004
LATEST_YEAR = 2099


class BadValue(ValueError):
    """A payload value that is present but unusable; its message is the quarantine reason."""


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 timestamp with an offset (``2026-11-20T01:23:45+0000``, ``...Z``) as an aware
    datetime; anything else, including a timestamp without an offset, is None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def int_or_none(value: Any) -> int | None:
    """A count given as an int or a string of ASCII digits, within bigint; None for anything else
    (bools, ``"²"``, negative or overflowing numbers included)."""
    try:
        return count(value, "value")
    except BadValue:
        return None


def count(value: Any, name: str) -> int | None:
    """A count field: ``None`` when absent, else a whole number in 0..2**63-1.

    Accepts an int, an integral float, or a string of ASCII digits (YouTube sends counts as
    strings; ``str.isdigit`` alone would accept ``"²"``, which ``int()`` then refuses).
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadValue(f"{name} is a boolean, not a count: {value!r}")
    number: int
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 25:
        number = int(value)
    else:
        return _bad(f"{name} is not a count: {_show(value)}")
    if number < 0:
        raise BadValue(f"{name} is negative: {number}")
    if number > BIGINT_MAX:
        raise BadValue(f"{name} is beyond bigint (2**63 or more): {_show(value)}")
    return number


def count_or_null(value: Any, name: str, repaired: list[str]) -> int | None:
    """A count that is not a post's identity: an unusable value becomes ``None`` and its field is
    added to ``repaired``, so one absurd number never costs the post (or every post of an author)."""
    try:
        return count(value, name)
    except BadValue:
        repaired.append(name)
        return None


def post_time(value: Any, name: str) -> datetime:
    """A required timestamp with an offset, in a sane range (years 2004..2099)."""
    if value is None:
        raise BadValue(f"{name} is missing")
    moment = parse_time(value)
    if moment is None:
        raise BadValue(f"{name} is missing or unparseable: {_show(value)}")
    # Checked before any conversion: year 1 with a positive offset cannot even be moved to UTC.
    if not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
        raise BadValue(f"{name} is outside {EARLIEST_YEAR}..{LATEST_YEAR}: {_show(value)}")
    return moment


def item_id(value: Any, name: str = "id", *, digits: bool = False) -> str:
    """A required id: a non-empty string (of ASCII digits when ``digits``); a list, number or
    object where an id belongs is bad input."""
    if value is None:
        raise BadValue(f"{name} is missing")
    if not isinstance(value, str):
        raise BadValue(f"{name} is a {type(value).__name__}, not a string: {_show(value)}")
    if not value.strip():
        raise BadValue(f"{name} is empty")
    if digits and not (value.isascii() and value.isdigit()):
        raise BadValue(f"{name} is not numeric: {_show(value)}")
    if len(value) > 200:
        raise BadValue(f"{name} is implausibly long ({len(value)} characters)")
    return value


def optional_text(value: Any, name: str) -> str | None:
    """A text field that may be absent; present but not text is bad input."""
    if value is None or isinstance(value, str):
        return value
    raise BadValue(f"{name} is a {type(value).__name__}, not text: {_show(value)}")


def optional_str(value: Any) -> str | None:
    """A descriptive field (a name, a URL, a language tag): itself when text, else None."""
    return value if isinstance(value, str) else None


def mapping_or_empty(value: Any) -> Mapping[str, Any]:
    """A payload field that should be an object: itself, or empty when it is missing or not one."""
    return value if isinstance(value, Mapping) else {}


def json_object(value: Any, name: str) -> Mapping[str, Any]:
    """A payload item that must be a JSON object (a post, a video, a search result)."""
    if not isinstance(value, Mapping):
        raise BadValue(f"{name} is a {type(value).__name__}, not a JSON object")
    return value


def optional_object(value: Any, name: str) -> Mapping[str, Any]:
    """A nested object that may be absent (empty then); present but not an object is bad input."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise BadValue(f"{name} is a {type(value).__name__}, not an object")
    return value


def hashtags_in(text: str) -> tuple[str, ...]:
    """The hashtags written in a text, without ``#``, first occurrence first; digits-only tags
    (``#2022``) are not hashtags."""
    return tuple(dict.fromkeys(_HASHTAG_RE.findall(text or "")))


def is_hashtag(tag: str) -> bool:
    """Whether ``tag`` (without ``#``) is a hashtag by the platforms' rule: word characters, not
    digits only."""
    return bool(_HASHTAG_RE.fullmatch("#" + tag))


def decode_entities(text: str) -> str:
    """Text as a person reads it: X escapes ``&``, ``<`` and ``>`` as HTML entities."""
    return html.unescape(text) if "&" in text else text


def _show(value: Any) -> str:
    """A short, printable rendering of a bad value for a quarantine reason."""
    try:
        shown = repr(value)
    except Exception:  # a repr that fails is itself the finding
        shown = f"<unprintable {type(value).__name__}>"
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _bad(reason: str) -> int:
    raise BadValue(reason)
