"""The storage boundary: every value bound for PostgreSQL is made storable here, or its item is
quarantined with the reason.

PostgreSQL refuses a NUL character in ``text`` and ``\\u0000`` in ``jsonb``, refuses a lone UTF-16
surrogate anywhere, NaN and Infinity in ``jsonb``, and integers beyond ``bigint``. One such value
used to fail the whole COPY, so one bad item lost its whole partition (and, for X, kept the cursor
from advancing, so the same item failed every poll). Texts and JSON are repaired (the change is
counted); values that cannot be repaired without inventing data (a negative or non-integer count,
a date outside a sane range, a list where an id belongs) quarantine their item alone.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from kedah_analytics.domain import PostRecord, QuarantinedRecord

BIGINT_MAX = 2**63 - 1
# No real count comes near this; above it a count no longer survives pandas' float round trip
# (a nullable count column holding None and 2**63 - 1 fails to build), so the item is quarantined.
MAX_COUNT = 2**53 - 1
# Social platforms did not exist before this; a post dated earlier is a parsing error upstream.
EARLIEST_POST = datetime(2000, 1, 1, tzinfo=UTC)
# Clocks differ; a post a little in the future is plausible, one a year ahead is not.
FUTURE_SLACK = timedelta(days=2)
POST_COUNT_FIELDS = ("like_count", "comment_count", "share_count", "view_count", "author_followers")
POST_OPTIONAL_TEXT_FIELDS = ("author_id", "author_name", "url", "lang", "quoted_post_id")
POST_TEXT_LIST_FIELDS = ("hashtags", "earlier_post_ids", "withheld_in")


@dataclass
class Sanitized:
    """What the boundary changed: how many values, and in which fields (for metadata and logs)."""

    values: int = 0
    fields: dict[str, int] = field(default_factory=dict)

    def note(self, name: str) -> None:
        self.values += 1
        self.fields[name] = self.fields.get(name, 0) + 1

    def add(self, other: Sanitized) -> None:
        self.values += other.values
        for name, n in other.fields.items():
            self.fields[name] = self.fields.get(name, 0) + n


def clean_text(value: str) -> str:
    """``value`` without NUL characters, lone surrogates replaced by U+FFFD (pairs are joined)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if value.isascii():  # no surrogate to look for (and CPython knows without reading the text)
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # A surrogate pair that arrived as two code points becomes one character; a lone one is
        # replaced rather than dropped, so the text still shows that something was there.
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


class CleanJsonObject(dict[str, Any]):
    """A JSON object as :func:`clean_json` returned it: what ``jsonb`` accepts. The COPY into the
    warehouse (``columns.prepare``) takes it as it is rather than cleaning a screened payload a
    second time; any other mapping it cleans. Not to be changed after cleaning (a NaN put in one
    would reach PostgreSQL, which refuses the whole write)."""


def clean_json(value: Any) -> tuple[Any, bool]:
    """A JSON value PostgreSQL's ``jsonb`` accepts, and whether anything had to change.

    Strings (keys too) lose NUL and lone surrogates; NaN and infinities become null; keys that
    are not strings become strings; tuples become lists; any other object becomes its ``str``.
    An object comes back as :class:`CleanJsonObject` (a payload that needs no change, nearly every
    one, as a shallow copy: looking is cheaper than rebuilding every object and list in it)."""
    if type(value) is dict and _is_clean(value):
        return CleanJsonObject(value), False
    return _cleaned(value)


def _is_clean(value: Any) -> bool:
    """Whether :func:`_cleaned` would leave ``value`` as it is: plain JSON types only (anything
    else, a tuple or a subclass, is left to it), finite floats, and strings and keys without NUL or
    lone surrogates."""
    kind = type(value)
    if kind is str:
        return "\x00" not in value and (value.isascii() or _encodes(value))
    if value is None or kind is bool or kind is int:
        return True
    if kind is float:
        return math.isfinite(value)
    if kind is dict:
        return all(type(k) is str and _is_clean(k) and _is_clean(v) for k, v in value.items())
    if kind is list:
        return all(_is_clean(v) for v in value)
    return False


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _cleaned(value: Any) -> tuple[Any, bool]:
    if value is None or isinstance(value, bool | int):
        return value, False
    if isinstance(value, str):
        cleaned = clean_text(value)
        return cleaned, cleaned != value
    if isinstance(value, float):
        return (value, False) if math.isfinite(value) else (None, True)
    if isinstance(value, Mapping):
        out = CleanJsonObject()
        changed = False
        for key, item in value.items():
            name = clean_text(key) if isinstance(key, str) else clean_text(str(key))
            changed |= name != key
            out[name], item_changed = _cleaned(item)
            changed |= item_changed
        return out, changed
    if isinstance(value, list | tuple):
        items = [_cleaned(v) for v in value]
        return [v for v, _ in items], isinstance(value, tuple) or any(c for _, c in items)
    return clean_text(str(value)), True


def count_problem(name: str, value: Any) -> str | None:
    """Why ``value`` cannot be stored as the count ``name`` (None when it can; None is allowed)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        return f"{name} is not an integer: {_shown(value)}"
    if value < 0:
        return f"{name} is negative: {value}"
    if value > MAX_COUNT:
        return f"{name} is beyond any real count (2^53): {value}"
    return None


def created_at_problem(value: Any, now: datetime | None = None) -> str | None:
    """Why ``value`` is not a plausible post time (None when it is)."""
    if not isinstance(value, datetime):
        return f"created_at is not a timestamp: {_shown(value)}"
    if value.tzinfo is None or value.utcoffset() is None:
        return f"created_at has no time zone: {value.isoformat()}"
    latest = (now or datetime.now(UTC)) + FUTURE_SLACK
    try:
        inside = EARLIEST_POST <= value <= latest
    except (OverflowError, ValueError):
        inside = False
    if not inside:
        return f"created_at {value.isoformat()} is outside {EARLIEST_POST.date()}..{latest.date()}"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return clean_text(text if len(text) <= 80 else text[:77] + "...")


def _text_field(name: str, value: Any, optional: bool, changes: Sanitized) -> tuple[str | None, str | None]:
    """(cleaned value, problem) for a text field of a post."""
    if value is None:
        return None, (None if optional else f"{name} is missing")
    if not isinstance(value, str):
        return None, f"{name} is not text: {_shown(value)}"
    cleaned = clean_text(value)
    if cleaned != value:
        changes.note(name)
    return cleaned, None


def screen_post(record: Any, now: datetime | None = None) -> tuple[PostRecord | None, str | None, Sanitized]:
    """(the post with storable values, None, changes) or (None, the reason to quarantine it, changes).

    Never raises: whatever a normalizer produced, the answer is a storable post or a reason."""
    changes = Sanitized()
    if not isinstance(record, PostRecord):
        return None, f"not a post record: {type(record).__name__}", changes
    try:
        values: dict[str, Any] = {}
        for name in ("platform", "post_id", "text", "provider"):
            values[name], problem = _text_field(name, getattr(record, name), False, changes)
            if problem:
                return None, problem, changes
        if not values["post_id"]:
            return None, "post_id is empty", changes
        for name in POST_OPTIONAL_TEXT_FIELDS:
            values[name], problem = _text_field(name, getattr(record, name), True, changes)
            if problem:
                return None, problem, changes
        for name in POST_COUNT_FIELDS:
            # A count is never a post's identity: an unstorable one is stored as NULL and counted.
            if count_problem(name, getattr(record, name)):
                values[name] = None
                changes.note(name)
        for name in record.repaired if isinstance(record.repaired, tuple | list) else ():
            changes.note(str(name))
        if problem := created_at_problem(record.created_at, now):
            return None, problem, changes
        for name in POST_TEXT_LIST_FIELDS:
            items = getattr(record, name)
            if not isinstance(items, tuple | list) or not all(isinstance(i, str) for i in items):
                return None, f"{name} is not a list of text: {_shown(items)}", changes
            values[name] = tuple(clean_text(i) for i in items)
            if values[name] != tuple(items):
                changes.note(name)
        if not isinstance(record.payload, Mapping):
            return None, f"payload is not a JSON object: {_shown(record.payload)}", changes
        payload, payload_changed = clean_json(record.payload)
        if payload_changed:
            changes.note("payload")
        return (
            dataclasses.replace(record, **values, payload=payload),
            None,
            changes,
        )
    except Exception as err:  # a value whose own methods fail (__eq__, __str__) is still one item
        return None, f"unreadable post: {type(err).__name__}: {clean_text(str(err))[:200]}", changes


@dataclass
class ScreenedPosts:
    """Posts split at the storage boundary."""

    posts: list[PostRecord]
    quarantined: list[QuarantinedRecord]
    sanitized: Sanitized


def screen_posts(
    records: Sequence[Any], platform: str, provider: str, now: datetime | None = None
) -> ScreenedPosts:
    """Every record stored (cleaned) or quarantined with its reason; one bad item never fails the rest."""
    out = ScreenedPosts([], [], Sanitized())
    for record in records:
        post, problem, changes = screen_post(record, now)
        out.sanitized.add(changes)
        if post is not None:
            out.posts.append(post)
            continue
        out.quarantined.append(
            QuarantinedRecord(
                platform=platform,
                provider=provider,
                reason=problem or "unstorable",
                payload=_payload_of(record),
            )
        )
    return out


def _payload_of(record: Any) -> Mapping[str, Any]:
    payload = getattr(record, "payload", None)
    if isinstance(payload, Mapping):
        return payload
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: getattr(record, f.name, None) for f in dataclasses.fields(record)}
    return {"item": record}


def storable_int(value: Any, column: str) -> int:
    """An integer for a bigint column, or a clear error naming the column (never a COPY crash)."""
    number = int(value)
    if not -BIGINT_MAX - 1 <= number <= BIGINT_MAX:
        raise ValueError(f"{column}: {number} is beyond bigint")
    return number
