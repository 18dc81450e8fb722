"""Walking provider pages the same way in every source: bad input is quarantined, never a crash.

A :class:`PageReader` holds one fetch's posts and quarantined items. Sources hand it each page and
each item with their normalizer; it

- reads a page's fields by their expected type (``data`` a list, ``includes``/``meta``/``paging``
  objects): a page that is not an object, or a field of the wrong type, becomes one quarantined
  record with its reason, and whatever else the page holds is still read;
- runs the normalizer on each item: a :class:`~kedah_analytics.sources.common.parsing.BadValue`, or any
  other error a normalizer raises on input it did not foresee, quarantines that item with the
  reason, and its neighbours go on. Only :class:`SourceError` (the provider failed) leaves;
- checks every record it is about to store against the warehouse's limits (counts 0..2**63-1,
  sane dates, text ids), so one source cannot store what another would quarantine;
- keeps the posts of the wanted Kedah days, one per post id, and counts what happened to every
  item it was given (stored, quarantined, folded into another post, outside the days).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from kedah_analytics.domain import PostRecord, QuarantinedRecord, kedah_date
from kedah_analytics.sources.common.base import FetchResult, FetchTelemetry, SourceError
from kedah_analytics.sources.common.parsing import BadValue, count, item_id, post_time

Normalizer = Callable[[Any], "PostRecord | QuarantinedRecord"]
MAX_REASON = 300


@dataclass
class ItemTally:
    """What became of every item a fetch read."""

    read: int = 0
    stored: int = 0
    quarantined: int = 0
    folded: int = 0  # merged into another stored post (a retweet, an earlier edit, a duplicate)
    outside_days: int = 0

    def accounted(self) -> int:
        return self.stored + self.quarantined + self.folded + self.outside_days

    def as_metadata(self) -> dict[str, int]:
        return {
            "items_read": self.read,
            "items_stored": self.stored,
            "items_quarantined": self.quarantined,
            "items_folded": self.folded,
            "items_outside_days": self.outside_days,
        }


def wrap_payload(value: Any) -> Mapping[str, Any]:
    """A payload for the quarantine: the item itself when it is an object, else ``{"item": ...}``."""
    return value if isinstance(value, Mapping) else {"item": value}


def check_record(record: PostRecord) -> None:
    """Raise :class:`BadValue` when a record breaks what ``kedah.raw_posts`` can hold."""
    item_id(record.post_id, "post id")
    post_time(record.created_at.isoformat(), "created_at")
    if not isinstance(record.text, str):
        raise BadValue(f"text is a {type(record.text).__name__}, not text")
    for name in ("like_count", "comment_count", "share_count", "view_count", "author_followers"):
        count(getattr(record, name), name)
    if not all(isinstance(tag, str) for tag in record.hashtags):
        raise BadValue("hashtags hold something that is not text")
    for name in ("author_id", "author_name", "url", "lang"):
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            raise BadValue(f"{name} is a {type(value).__name__}, not text")


class PageReader:
    """One fetch's posts, quarantined items and item tally (see the module docstring)."""

    def __init__(
        self,
        platform: str,
        provider: str,
        wanted: Iterable[date] | None,
        telemetry: FetchTelemetry,
    ):
        self.platform = platform
        self.provider = provider
        self.wanted = set(wanted) if wanted is not None else None
        self.telemetry = telemetry
        self.posts: dict[str, PostRecord] = {}
        self.quarantined: list[QuarantinedRecord] = []
        self.tally = ItemTally()

    # --- pages ------------------------------------------------------------------------------

    def page(self, page: Any, where: str) -> Mapping[str, Any] | None:
        """The page as an object, or None (and a quarantined record) when it is not one."""
        if isinstance(page, Mapping):
            return page
        self.quarantine_page(f"{where}: the page is a {type(page).__name__}, not a JSON object", page)
        return None

    def list_field(self, page: Mapping[str, Any], key: str, where: str) -> list[Any]:
        """``page[key]`` as a list: empty when absent or null; quarantined when of another type."""
        value = page.get(key)
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.quarantine_page(f"{where}: '{key}' is a {type(value).__name__}, not a list", {key: value})
        return []

    def mapping_field(self, page: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        """``page[key]`` as an object: empty when absent or null; quarantined when of another type."""
        value = page.get(key)
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return value
        self.quarantine_page(f"{where}: '{key}' is a {type(value).__name__}, not an object", {key: value})
        return {}

    def text_field(self, page: Mapping[str, Any], key: str, where: str) -> str | None:
        """``page[key]`` as text (a paging token or URL): None when absent; quarantined when not text."""
        value = page.get(key)
        if value is None or isinstance(value, str):
            return value or None
        self.quarantine_page(f"{where}: '{key}' is a {type(value).__name__}, not text", {key: value})
        return None

    def quarantine_page(self, reason: str, payload: Any) -> None:
        """A page (or a part of one) that cannot be read; it is not an item, so the tally is unchanged."""
        self.quarantined.append(
            QuarantinedRecord(self.platform, self.provider, _clip(reason), wrap_payload(payload))
        )

    # --- items ------------------------------------------------------------------------------

    def read(self, item: Any, normalize: Normalizer, *, where: str = "") -> PostRecord | None:
        """Normalize one item; quarantine it when it cannot be a row. The record, or None."""
        self.tally.read += 1
        try:
            record = normalize(item)
            if isinstance(record, PostRecord):
                check_record(record)
        except SourceError:
            raise
        except BadValue as exc:
            self.quarantine_item(f"{where}{_item_label(item)}{exc}", item)
            return None
        except Exception as exc:  # noqa: BLE001 - a normalizer never fails the partition on odd input
            self.quarantine_item(
                f"{where}{_item_label(item)}unreadable item ({type(exc).__name__}: {exc})", item
            )
            return None
        if isinstance(record, QuarantinedRecord):
            self.tally.quarantined += 1
            self.quarantined.append(record)
            return None
        return record

    def quarantine_item(self, reason: str, item: Any) -> None:
        self.tally.quarantined += 1
        self.quarantined.append(
            QuarantinedRecord(self.platform, self.provider, _clip(reason), wrap_payload(item))
        )

    def fold(self, note: str | None = None) -> None:
        """An item read and merged into another post rather than stored on its own."""
        self.tally.folded += 1
        if note:
            self.telemetry.notes.append(note)

    def keep(
        self,
        record: PostRecord,
        *,
        prefer: Callable[[PostRecord, PostRecord], bool] | None = None,
    ) -> bool:
        """Store ``record`` when its Kedah day is wanted. A post id seen twice keeps one row: the new
        record replaces the old when ``prefer(new, old)`` (default: the later answer wins)."""
        if self.wanted is not None and kedah_date(record.created_at) not in self.wanted:
            self.tally.outside_days += 1
            return False
        old = self.posts.get(record.post_id)
        if old is not None:
            self.tally.folded += 1
            if prefer is not None and not prefer(record, old):
                return False
            self.posts[record.post_id] = record
            return True
        self.tally.stored += 1
        self.posts[record.post_id] = record
        return True

    def metadata(self) -> dict[str, int]:
        return self.tally.as_metadata()

    def read_list_page(self, page: Any, where: str, normalize: Normalizer, *, item_where: str = "") -> None:
        """A page that is a list of items (``data``) with ``paging``, as the Graph API sends: each
        item normalized and kept (or quarantined)."""
        body = self.page(page, where)
        if body is None:
            return
        self.mapping_field(body, "paging", where)
        for item in self.list_field(body, "data", where):
            record = self.read(item, normalize, where=item_where)
            if record is not None:
                self.keep(record)

    def result(self) -> FetchResult:
        """What the fetch gives: the posts kept, the items quarantined, its telemetry with the tally."""
        self.telemetry.details.update(self.metadata())
        return FetchResult(list(self.posts.values()), self.quarantined, self.telemetry, self.provider)


def _item_label(item: Any) -> str:
    if isinstance(item, Mapping):
        raw = item.get("id")
        if isinstance(raw, str) and raw.isprintable() and len(raw) <= 40:
            return f"item {raw}: "
    return ""


def _clip(reason: str) -> str:
    return reason if len(reason) <= MAX_REASON else reason[: MAX_REASON - 3] + "..."
