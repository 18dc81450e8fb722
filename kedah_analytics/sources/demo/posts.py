"""The demo source: invented posts for a new user with no credentials, never mixed with real ones.

Deterministic for a partition (the same day and platform always give the same posts), multilingual
(English, Malay, Manglish), with long-tailed engagement, hashtags, place mentions in their English
and Malay spellings, some spam (promotions posted by several accounts) and about 1% malformed
items that the normalizer quarantines. Every row carries the provider ``demo``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np

from kedah_analytics.config.settings import DEMO_POSTS_PER_DAY
from kedah_analytics.domain import DEMO_PROVIDER, KEDAH_TZ, PostRecord, QuarantinedRecord, is_kedah_weekend
from kedah_analytics.sources.common.base import FetchResult, FetchTelemetry

DAILY_VOLUME = {"twitter": 60, "instagram": 40, "facebook": 25, "youtube": 8}
# Engagement is long-tailed (most posts get a few likes, about 1 in 100 over 100) but bounded by
# what a post about a Kedah attraction plausibly reaches: an unbounded Pareto gave one demo post
# 73,554 engagement, which flattened every other city's line in the charts.
MAX_LIKES = 1_500
MAX_VIEWS = 150_000
PLACES = [
    ("Langkawi", "Langkawi"), ("Pantai Cenang", "Pantai Chenang"), ("Alor Setar", "Alor Star"),
    ("Sungai Petani", "Sg. Petani"), ("Kulim", "Bandar Kulim"), ("Jitra", "Pekan Jitra"),
    ("Gunung Raya", "Gunung Raya"), ("Sky Bridge", "Jambatan Langit"), ("Kilim Geoforest", "Hutan Paya Bakau Kilim"),
    ("Zahir Mosque", "Masjid Zahir"), ("Pekan Rabu", "Pekan Rabu"), ("Gunung Jerai", "Gunung Jerai"),
    ("Tanjung Rhu", "Tanjung Rhu"), ("Pulau Payar", "Pulau Payar"), ("Seven Wells", "Telaga Tujuh"),
    ("Bujang Valley", "Lembah Bujang"), ("Pedu Lake", "Tasik Pedu"), ("Menara Alor Setar", "Menara Alor Star"),
    ("Kuah Jetty", "Jeti Kuah"), ("Darulaman Lake", "Tasik Darulaman"),
]  # fmt: skip
ENGLISH = [
    "Sunset at {en} was amazing, best trip ever!",
    "The ferry to {en} was delayed again, terrible service.",
    "Great food near {en}, the laksa was so good.",
    "Visited {en} today. Crowded but the view is beautiful.",
    "Hotel near {en} was dirty and overpriced, not coming back.",
    "Island hopping from {en} with the kids, they loved the snorkelling.",
    "Hiking up {en} this morning, the forest is stunning.",
    "Anyone know a good homestay around {en}?",
    "Traffic to {en} is bad today, avoid the highway.",
    "Duty free shopping in {en}, chocolate is cheap here.",
]
MALAY = [
    "Pantai kat {ms} memang cantik, puas hati sangat!",
    "Feri ke {ms} lambat gila, tak best langsung.",
    "Makan laksa kedah dekat {ms}, sedap betul.",
    "Pergi {ms} hari ni, ramai orang tapi pemandangan indah.",
    "Hotel dekat {ms} kotor dan mahal, menyesal pergi.",
    "Cuti sekolah bawa anak ke {ms}, seronok sangat.",
    "Air terjun dekat {ms} tidak cantik macam dalam gambar.",
    "Ada sesiapa tahu homestay murah dekat {ms}?",
    "Jalan ke {ms} sesak teruk petang ni.",
    "Jom ke {ms} cuti ni, tempat ni memang terbaik.",
]
MIXED = [
    "Weekend ni pergi {en}, the view memang best gila!",
    "Ferry to {ms} delay lagi, so frustrating la.",
    "Makan seafood kat {en}, the price ok but service lambat.",
    "{en} sunset tonight, cantik gila bro.",
    "Tak best la hotel dekat {ms}, room kotor and AC rosak.",
    "Jom snorkelling kat {en}, the water so clear!",
    "Traffic jam teruk nak ke {ms}, avoid la kalau boleh.",
    "First time ke {en}, confirm datang lagi next year.",
]
SPAM = [
    "PROMO murah! Pakej {en} RM199 sahaja, whatsapp sekarang wa.me/60123456789 http://bit.ly/promo{n}",
    "Cheap {en} tour packages, DM now! Limited offer, click link http://tinyurl.com/x{n} http://t.co/y{n}",
]
OPENERS = [
    "",
    "",
    "Honestly,",
    "Wah,",
    "Day 2:",
    "Finally!",
    "Update:",
    "Aduh,",
    "So,",
    "Throwback:",
    "Weekend vibes:",
]
CLOSERS = ["", "", "😍", "🌴🌊", "Highly recommend.", "Next time bawa family.", "10/10", "🙏", "Sigh.", "Worth it.",
           "Will share more photos later.", "📸"]  # fmt: skip
HASHTAGS = ["#Langkawi", "#VisitKedah", "#AlorSetar", "#JomKeKedah", "#SungaiPetani", "#Kulim", "#Jitra",
            "#LangkawiIsland", "#CutiCutiMalaysia", "#VisitMalaysia", "#Kedah"]  # fmt: skip
MALFORMED = ("missing_id", "bad_created_at", "missing_text", "negative_count")


# A post's style: one uniform double against the cumulative weights.
STYLES = ("en", "ms", "mixed", "spam")
STYLE_WEIGHTS = (0.42, 0.3, 0.23, 0.05)
_STYLE_CDF = np.cumsum(STYLE_WEIGHTS) / np.sum(STYLE_WEIGHTS)
POOLS = {"en": ENGLISH, "ms": MALAY, "mixed": MIXED, "spam": SPAM}
LANG_TAG = {"en": "en", "ms": "in", "mixed": "in", "spam": "in"}  # what X would tag each style


def _rng(day: date, platform: str) -> np.random.Generator:
    seed = int.from_bytes(hashlib.sha256(f"{day.isoformat()}|{platform}".encode()).digest()[:8], "big")
    return np.random.default_rng(seed)


def volume_scale(env: Mapping[str, str] | None = None) -> float:
    """``KEDAH_DEMO_POSTS_PER_DAY`` over the default volume, shared by the platforms in the default
    proportions; 1 when unset, so the demo data stays what it always was."""
    wanted = DEMO_POSTS_PER_DAY.read(env)
    if not wanted:
        return 1.0
    per_day = float(wanted)
    if per_day <= 0:
        raise ValueError(f"{DEMO_POSTS_PER_DAY.name} must be positive, got {wanted!r}")
    return per_day / sum(DAILY_VOLUME.values())


def demo_items(day: date, platform: str) -> list[dict[str, Any]]:
    """The demo payloads of one Kedah day and platform (always the same).

    Every random draw of the day is made at once, a vector per property: drawn a post at a time
    (16 calls into the generator per post) this took more time than anything the pipeline does
    with a post but classify it."""
    rng = _rng(day, platform)
    weekend = is_kedah_weekend(day)
    volume = DAILY_VOLUME[platform] * volume_scale() * (1.35 if weekend else 1.0)
    n = int(rng.poisson(volume))
    start = datetime.combine(day, time(0), tzinfo=KEDAH_TZ)
    authors = [f"{platform[:2]}user{int(i)}" for i in rng.zipf(1.6, size=n)]
    places = ((rng.zipf(1.4, size=n) - 1) % len(PLACES)).tolist()
    styles = np.searchsorted(_STYLE_CDF, rng.random(n), side="right").tolist()
    picks = rng.random(n).tolist()
    numbers = rng.integers(1000, size=n).tolist()
    openers = rng.integers(len(OPENERS), size=n).tolist()
    closers = rng.integers(len(CLOSERS), size=n).tolist()
    # Up to three distinct hashtags: the first k of a random order of all of them.
    tag_counts = rng.integers(0, 4, size=n).tolist()
    tag_orders = np.argsort(rng.random((n, len(HASHTAGS))), axis=1)[:, :3].tolist()
    # Tourism posts are mostly in daylight: a normal around 14:00 Kedah time.
    minutes = np.clip(rng.normal(14 * 60, 200, size=n), 0, 24 * 60 - 1).astype(int).tolist()
    seconds = rng.integers(60, size=n).tolist()
    views = np.minimum(rng.lognormal(6.5, 1.3, size=n), MAX_VIEWS).astype(int).tolist()
    like_draws = np.minimum(rng.pareto(1.3, size=n) * 4, MAX_LIKES).astype(int)
    likes = like_draws.tolist()
    comments = rng.poisson(like_draws * 0.08 + 0.2).tolist()
    shares = rng.poisson(like_draws * 0.05).tolist()
    followers = rng.lognormal(6, 1.5, size=n).astype(int).tolist()
    malformed = (rng.random(n) < 0.01).tolist()
    kinds = rng.integers(len(MALFORMED), size=n).tolist()
    with_views = platform in ("twitter", "youtube", "facebook")
    items = []
    for i in range(n):
        en, ms = PLACES[places[i]]
        style = STYLES[styles[i]]
        pool = POOLS[style]
        text = pool[int(picks[i] * len(pool))].format(en=en, ms=ms, n=numbers[i])
        if style == "spam":
            tags = HASHTAGS[:9]
        else:
            text = f"{OPENERS[openers[i]]} {text} {CLOSERS[closers[i]]}".strip()
            tags = [HASHTAGS[j] for j in tag_orders[i][: tag_counts[i]]]
        text = f"{text} {' '.join(tags)}".strip()
        created = start + timedelta(minutes=minutes[i], seconds=seconds[i])
        item: dict[str, Any] = {
            "id": f"demo-{platform}-{day.isoformat()}-{i:04d}",
            "text": text,
            "created_at": created.isoformat(),
            "author": {"id": authors[i], "name": authors[i].title(), "followers": followers[i]},
            "metrics": {
                "likes": likes[i],
                "comments": comments[i],
                "shares": shares[i],
                "views": views[i] if with_views else None,
            },
            "hashtags": [t.lstrip("#") for t in tags],
            "url": f"https://example.invalid/{platform}/{i}",
            "lang": LANG_TAG[style],
        }
        if malformed[i]:
            kind = MALFORMED[kinds[i]]
            if kind == "missing_id":
                del item["id"]
            elif kind == "bad_created_at":
                item["created_at"] = "yesterday-ish"
            elif kind == "missing_text":
                item["text"] = None
            else:
                item["metrics"]["likes"] = -abs(likes[i]) - 1
        items.append(item)
    return items


class MalformedItem(ValueError):
    """An item that cannot become a post; the message is the quarantine reason."""


def _optional_count(metrics: Mapping[str, Any], name: str) -> int | None:
    value = metrics.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or value < 0:
        raise MalformedItem(f"{name} is {value!r}, not a count")
    return value


def normalize_demo_item(platform: str, item: Mapping[str, Any]) -> PostRecord:
    """A demo payload as a post; raises MalformedItem with the reason."""
    if not item.get("id"):
        raise MalformedItem("missing id")
    if not isinstance(item.get("text"), str):
        raise MalformedItem("missing text")
    try:
        created = datetime.fromisoformat(item["created_at"])
    except (KeyError, TypeError, ValueError) as err:
        raise MalformedItem(f"unreadable created_at {item.get('created_at')!r}") from err
    if created.tzinfo is None:
        raise MalformedItem("created_at has no time zone")
    metrics = item.get("metrics") or {}
    author = item.get("author") or {}
    return PostRecord(
        platform=platform,
        post_id=str(item["id"]),
        created_at=created,
        text=item["text"],
        author_id=author.get("id"),
        author_name=author.get("name"),
        author_followers=author.get("followers"),
        url=item.get("url"),
        hashtags=tuple(item.get("hashtags") or ()),
        like_count=_optional_count(metrics, "likes"),
        comment_count=_optional_count(metrics, "comments"),
        share_count=_optional_count(metrics, "shares"),
        view_count=_optional_count(metrics, "views"),
        lang=item.get("lang"),
        provider=DEMO_PROVIDER,
        payload=dict(item),
    )


class DemoSource:
    """Invented posts for any platform; the provider is ``demo``.

    Like a real source it only returns what has been posted by now (``clock``): today's partition
    fills up during the day, and no demo post is ever in the future."""

    provider = DEMO_PROVIDER
    polls_from_cursors = False

    def __init__(self, clock: Callable[[], datetime] | None = None):
        self.clock = clock or (lambda: datetime.now(UTC))

    def fetch_posts(
        self, platform: str, days: list[date], cursors: Mapping[str, str] | None = None
    ) -> FetchResult:
        now = self.clock()
        posts: list[PostRecord] = []
        quarantined: list[QuarantinedRecord] = []
        not_yet = 0
        for day in days:
            for item in demo_items(day, platform):
                try:
                    post = normalize_demo_item(platform, item)
                except MalformedItem as err:
                    quarantined.append(QuarantinedRecord(platform, DEMO_PROVIDER, str(err), item))
                    continue
                if post.created_at > now:
                    not_yet += 1
                    continue
                posts.append(post)
        notes = ["demo data: invented posts, provider 'demo'"]
        if not_yet:
            notes.append(f"{not_yet} demo post(s) of today are not posted yet and are left out")
        telemetry = FetchTelemetry(notes=notes)
        return FetchResult(posts=posts, quarantined=quarantined, telemetry=telemetry, provider=DEMO_PROVIDER)
