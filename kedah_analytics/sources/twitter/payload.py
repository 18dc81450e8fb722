"""X recent-search pages as posts: what a person reads, one row per edit chain, retweets folded.

Text is decoded from HTML entities and taken whole from ``note_tweet``; a retweet is stored as its
original (from ``includes.tweets``); a withheld post keeps its counts but not X's placeholder text.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from kedah_analytics.domain import PostRecord
from kedah_analytics.sources.common.pages import PageReader
from kedah_analytics.sources.common.parsing import (
    BadValue,
    count,
    count_or_null,
    decode_entities,
    is_hashtag,
    item_id,
    json_object,
    mapping_or_empty,
    optional_object,
    optional_str,
    optional_text,
    post_time,
)
from kedah_analytics.sources.twitter.query import tweet_id_time

PROVIDER = "x_api_v2"
PLATFORM = "twitter"


@dataclass
class SearchIncludes:
    """A search page's ``includes``, by id: authors, places, and the referenced posts (the
    originals of retweets and quotes, whole, with their own counts)."""

    users: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    places: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    tweets: dict[str, Any] = field(default_factory=dict)


def _by_id(items: list[Any]) -> dict[str, Any]:
    return {i["id"]: i for i in items if isinstance(i, Mapping) and isinstance(i.get("id"), str)}


def _edit_chain(item: Mapping[str, Any], tweet_id: str) -> list[str]:
    """The ids of every version of the post, oldest first (X lists them in edit order)."""
    raw = item.get("edit_history_tweet_ids")
    if raw is None:
        return [tweet_id]
    if not isinstance(raw, list) or not raw:
        raise BadValue(f"edit_history_tweet_ids is not a list of ids: {raw!r:.80}")
    chain = [item_id(v, "edit_history_tweet_ids entry", digits=True) for v in raw]
    if tweet_id not in chain:
        raise BadValue("tweet is missing from its own edit_history_tweet_ids")
    return sorted(set(chain), key=int)


def referenced(item: Any, kind: str) -> str | None:
    """The id of the post ``item`` references as ``kind`` (retweeted, quoted, replied_to)."""
    if not isinstance(item, Mapping) or not isinstance(item.get("referenced_tweets"), list):
        return None
    for ref in item["referenced_tweets"]:
        if isinstance(ref, Mapping) and ref.get("type") == kind and isinstance(ref.get("id"), str):
            return ref["id"]
    return None


# X's notice in place of a withheld post's text ("This Post from @user has been withheld in ...",
# "... in response to a report from the copyright holder") or of a withheld account's.
WITHHELD_NOTICE = re.compile(
    r"^\s*(this (post|tweet) from @\w+|@\w+['\u2019]s account)\b.*\b(has been|is) withheld\b", re.I | re.S
)


def withheld_in(item: Mapping[str, Any], user: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The countries X withholds the post or its author in (``withheld.country_codes``)."""
    codes: dict[str, None] = {}
    for owner in (item, user or {}):
        withheld = owner.get("withheld")
        if isinstance(withheld, Mapping) and isinstance(withheld.get("country_codes"), list):
            codes.update((c, None) for c in withheld["country_codes"] if isinstance(c, str) and c)
    return tuple(codes)


def is_withheld_notice(item: Mapping[str, Any], user: Mapping[str, Any] | None, text: str) -> bool:
    """Whether ``text`` is X's withheld notice rather than the author's words: the post or its
    author carries a ``withheld`` object and the text reads as X's notice."""
    marked = isinstance(item.get("withheld"), Mapping) or bool(
        user and isinstance(user.get("withheld"), Mapping)
    )
    return marked and bool(WITHHELD_NOTICE.match(text))


def tweet_to_post(item: Any, includes: SearchIncludes | None = None) -> PostRecord:
    """One post from a search page (or from ``includes.tweets``), joined to its author and place.

    Text is what a person reads: the note_tweet's full text when present, HTML entities decoded.
    An edited post is keyed by the first id of its edit chain and lists the earlier versions; a
    withheld one keeps its counts and the countries it is withheld in, and its text unless that text
    is X's withheld notice. Raises :class:`BadValue` for
    what cannot be a row.
    """
    includes = includes or SearchIncludes()
    item = json_object(item, "tweet")
    version_id = item_id(item.get("id"), "tweet id", digits=True)
    chain = _edit_chain(item, version_id)
    key = chain[0]
    created_at = post_time(item.get("created_at"), "created_at")
    if key != version_id:
        # An edit: file the row under the first version's time, so the chain stays on one row and day.
        created_at = post_time(tweet_id_time(key).isoformat(), "first version's time")
    note = mapping_or_empty(item.get("note_tweet"))
    text = optional_text(note.get("text"), "note_tweet.text") or optional_text(item.get("text"), "text")
    if text is None:
        raise BadValue("tweet has no text")
    entities = mapping_or_empty(note.get("entities")) if note.get("text") else {}
    entities = entities or mapping_or_empty(item.get("entities"))
    raw_tags = entities.get("hashtags")
    hashtags = tuple(
        dict.fromkeys(
            h["tag"]
            for h in (raw_tags if isinstance(raw_tags, list) else [])
            if isinstance(h, Mapping) and isinstance(h.get("tag"), str) and is_hashtag(h["tag"])
        )
    )

    metrics = optional_object(item.get("public_metrics"), "public_metrics")
    repaired: list[str] = []
    retweets = count_or_null(metrics.get("retweet_count"), "retweet_count", repaired)
    quotes = count_or_null(metrics.get("quote_count"), "quote_count", repaired)
    shares = None if retweets is None and quotes is None else (retweets or 0) + (quotes or 0)

    author_id = optional_str(item.get("author_id"))
    user = includes.users.get(author_id) if author_id else None
    username = optional_str(user.get("username")) if user else None
    followers = None
    if user and isinstance(user.get("public_metrics"), Mapping):
        followers = count_or_null(user["public_metrics"].get("followers_count"), "author_followers", repaired)
    place_id = mapping_or_empty(item.get("geo")).get("place_id")
    place = includes.places.get(place_id) if isinstance(place_id, str) else None

    withheld = is_withheld_notice(item, user, text)
    if withheld:
        # X's notice is not the author's text: keep it out of every text metric. A post withheld
        # only in other countries arrives with its author's text, and keeps it.
        text, hashtags = "", ()
    payload_includes: dict[str, Any] = {}
    if user:
        payload_includes["users"] = [dict(user)]
    if place:
        payload_includes["places"] = [dict(place)]
    return PostRecord(
        platform=PLATFORM,
        post_id=key,
        created_at=created_at,
        text=decode_entities(text),
        author_id=author_id,
        author_name=username,
        url=f"https://x.com/{username}/status/{version_id}"
        if username
        else f"https://x.com/i/web/status/{version_id}",
        hashtags=hashtags,
        like_count=count_or_null(metrics.get("like_count"), "like_count", repaired),
        comment_count=count_or_null(metrics.get("reply_count"), "reply_count", repaired),
        share_count=shares,
        view_count=count_or_null(metrics.get("impression_count"), "impression_count", repaired),
        lang=optional_str(item.get("lang")),
        provider=PROVIDER,
        payload={"data": item, "includes": payload_includes},
        author_followers=followers,
        is_withheld=withheld,
        withheld_in=withheld_in(item, user),
        repaired=tuple(repaired),
        earlier_post_ids=tuple(v for v in chain if v != version_id and int(v) < int(version_id)),
        quoted_post_id=referenced(item, "quoted"),
    )


def _version(record: PostRecord) -> int:
    data = record.payload.get("data")
    raw = data.get("id") if isinstance(data, Mapping) else None
    return int(raw) if isinstance(raw, str) and raw.isdigit() else 0


def newer_version(new: PostRecord, old: PostRecord) -> bool:
    """Of two answers for one edit chain, the later version (then the later answer) is kept."""
    return _version(new) >= _version(old)


def read_search_page(page: Any, reader: PageReader) -> tuple[str | None, int | None, int]:
    """One recent-search page into ``reader``: ``(next_token, newest id read, posts billed)``.

    A retweet is not stored as a post: X gives it the original's retweet_count and a cut text.
    Its original (whole, from ``includes.tweets``) is stored instead with its own counts, and the
    retweet is folded into it; a retweet whose original X did not include is folded with a note.
    Quote posts are stored with their own text and counts and the quoted post's id.
    """
    body = reader.page(page, "X search page")
    if body is None:
        return None, None, 0
    data = reader.list_field(body, "data", "X search page")
    raw_includes = reader.mapping_field(body, "includes", "X search page")
    meta = reader.mapping_field(body, "meta", "X search page")
    includes = SearchIncludes(
        users=_by_id(reader.list_field(raw_includes, "users", "X search includes")),
        places=_by_id(reader.list_field(raw_includes, "places", "X search includes")),
        tweets=_by_id(reader.list_field(raw_includes, "tweets", "X search includes")),
    )
    errors = body.get("errors")
    if isinstance(errors, list) and errors:
        reader.telemetry.notes.append(f"X returned {len(errors)} partial errors (e.g. withheld authors)")

    def normalize(item: Any) -> PostRecord:
        return tweet_to_post(item, includes)

    newest: int | None = None
    for item in data:
        original_id = referenced(item, "retweeted")
        if original_id is None:
            record = reader.read(item, normalize, where="X: ")
            if record is None:
                continue
            reader.keep(record, prefer=newer_version)
            newest = max(newest or 0, _version(record))
            continue
        # A retweet: its id moves the cursor, its metrics are the original's and are not stored.
        reader.tally.read += 1
        retweet_id = item.get("id") if isinstance(item, Mapping) else None
        try:
            retweet_id = item_id(retweet_id, "retweet id", digits=True)
            count(int(retweet_id), "retweet id")
        except BadValue as exc:
            reader.quarantine_item(f"X: retweet of {original_id:.40}: {exc}", item)
            continue
        newest = max(newest or 0, int(retweet_id))
        original = includes.tweets.get(original_id)
        if original is None:
            reader.fold(f"retweet {retweet_id} of {original_id:.40} left out: X did not include the original")
            continue
        reader.fold()
        record = reader.read(original, normalize, where=f"X: original of retweet {retweet_id}: ")
        if record is not None:
            reader.keep(record, prefer=newer_version)
    next_token = reader.text_field(meta, "next_token", "X search meta")
    billed = len(data) + len(includes.tweets)
    return next_token, newest, billed


def count_users(page: Any) -> int:
    includes = page.get("includes") if isinstance(page, Mapping) else None
    users = includes.get("users") if isinstance(includes, Mapping) else None
    return len(users) if isinstance(users, list) else 0
