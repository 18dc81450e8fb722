"""Reading values out of provider payloads, the same way for every source.

A value of the wrong type or shape reads as ``None`` (the normalizer then decides whether the item
is quarantined), never as a guess.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

_HASHTAG_RE = re.compile(r"#(\w+)")


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
    """A count given as an int or a string of digits; None for anything else (bools included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def mapping_or_empty(value: Any) -> Mapping[str, Any]:
    """A payload field that should be an object: itself, or empty when it is missing or not one."""
    return value if isinstance(value, Mapping) else {}


def hashtags_in(text: str) -> tuple[str, ...]:
    """The hashtags written in a text, without ``#``, first occurrence first."""
    return tuple(dict.fromkeys(_HASHTAG_RE.findall(text or "")))
