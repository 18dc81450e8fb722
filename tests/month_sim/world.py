"""The simulated world: a deterministic stream of posts per platform over simulated time, with
daily and weekly seasonality, a few bursts, X retweets and edits, and the same promotional text
posted from several accounts on several platforms."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

KEDAH = ZoneInfo("Asia/Kuala_Lumpur")
TWITTER_EPOCH_MS = 1288834974657

# Posts a day per platform on an ordinary weekday (before seasonality and bursts).
DAILY_RATE = {"twitter": 110.0, "instagram": 70.0, "facebook": 6.0, "youtube": 12.0}
FACEBOOK_PAGES = ("100064604811234", "100064604822222")
PLACES = ("Langkawi", "Alor Setar", "Sungai Petani", "Kulim", "Jitra", "Pantai Cenang", "Gunung Jerai",
          "Pulau Payar", "Pekan Rabu", "Tasik Pedu")  # fmt: skip
OPENINGS = ("Sunset at", "Makan malam di", "Weekend trip to", "Cuti sekolah ke", "Morning walk around",
            "Traffic jam near", "Best view from", "Sedap gila food in", "Hujan lebat di", "First time visiting")  # fmt: skip
ENDINGS = ("so beautiful!", "memang best", "worth it", "ramai orang hari ni", "tak berbaloi langsung",
           "highly recommended", "crowded but fun", "nice and quiet", "mahal sikit", "will come back")  # fmt: skip
PROMO = "Cheap {place} island hopping tour package book now limited seats whatsapp us"


def snowflake(moment: datetime, sequence: int) -> str:
    """An X id minted at ``moment`` (X ids carry their creation time)."""
    return str(((int(moment.timestamp() * 1000) - TWITTER_EPOCH_MS) << 22) | (sequence % (1 << 22)))


@dataclass
class SimPost:
    platform: str
    post_id: str
    created_at: datetime
    text: str
    author_id: str
    term: str  # what makes a query, hashtag, Page or search find it
    likes: int
    comments: int
    shares: int
    views: int
    hashtags: list[str] = field(default_factory=list)
    retweet: bool = False
    edit_chain: list[str] = field(default_factory=list)  # X: the ids of every version, oldest first
    version_of: str | None = None  # X: the first id of the chain this version belongs to


def hour_profile(kedah_hour: int) -> float:
    """Posting by hour in Kedah: quiet at night, a lunch bump and an evening peak."""
    return (
        0.25 + 0.9 * math.exp(-((kedah_hour - 20.5) ** 2) / 8) + 0.5 * math.exp(-((kedah_hour - 13) ** 2) / 6)
    )


WEEKDAY = (0.9, 0.85, 0.9, 0.95, 1.1, 1.35, 1.3)


@dataclass
class World:
    """Every post the platforms hold between ``start`` and ``end`` (UTC), generated once."""

    start: datetime
    end: datetime
    x_terms: tuple[str, ...]
    ig_hashtags: tuple[str, ...]
    yt_queries: tuple[str, ...]
    seed: int = 20261201
    burst_count: int = 3  # bursts of 3 hours at 3 to 6 times the usual rate, on different days
    bursts: tuple[tuple[datetime, float], ...] = ()
    posts: dict[str, list[SimPost]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        if not self.bursts and self.burst_count:
            days = max(1, (self.end - self.start).days)
            picks = sorted(rng.sample(range(days), min(self.burst_count, days)))
            self.bursts = tuple(
                (self.start + timedelta(days=d, hours=rng.randrange(2, 14)), rng.uniform(3.0, 6.0))
                for d in picks
            )
        self.posts = {p: [] for p in DAILY_RATE}
        hour = self.start.replace(minute=0, second=0, microsecond=0)
        sequence = 0
        while hour < self.end:
            local = hour.astimezone(KEDAH)
            factor = hour_profile(local.hour) * WEEKDAY[local.weekday()] / 0.55 / 24
            for at, size in self.bursts:
                if at <= hour < at + timedelta(hours=3):
                    factor *= size
            for platform, daily in DAILY_RATE.items():
                rate = daily * factor * (len(FACEBOOK_PAGES) if platform == "facebook" else 1)
                for _ in range(_poisson(rng, rate)):
                    sequence += 1
                    moment = hour + timedelta(seconds=rng.randrange(3600))
                    self._add(rng, platform, moment, sequence)
            hour += timedelta(hours=1)
        for items in self.posts.values():
            items.sort(key=lambda p: p.created_at)

    def _add(self, rng: random.Random, platform: str, moment: datetime, sequence: int) -> None:
        place = rng.choice(PLACES)
        promo = rng.random() < 0.02
        text = (
            PROMO.format(place=place) if promo else f"{rng.choice(OPENINGS)} {place}, {rng.choice(ENDINGS)}"
        )
        author = f"{platform[:2]}-user-{rng.randrange(400)}"
        counts = {"likes": int(rng.paretovariate(1.3) * 5), "comments": rng.randrange(6),
                  "shares": rng.randrange(4), "views": int(rng.paretovariate(1.2) * 200)}  # fmt: skip
        if platform == "twitter":
            term = rng.choice(self.x_terms)
            text = f"{text} {term}" if term.startswith("#") else f"{text} ({term})"
            post = SimPost(platform, snowflake(moment, sequence), moment, text, author, term, **counts,
                           hashtags=[term.lstrip("#")] if term.startswith("#") else [])  # fmt: skip
            post.retweet = rng.random() < 0.08
            post.edit_chain = [post.post_id]
            self.posts[platform].append(post)
            if not post.retweet and rng.random() < 0.03:  # an edit: a new id, the chain in both
                edited_at = moment + timedelta(minutes=rng.randrange(5, 60))
                edit = SimPost(platform, snowflake(edited_at, sequence + 1_000_000), edited_at, text + " (edited)",
                               author, term, **counts, hashtags=post.hashtags, version_of=post.post_id)  # fmt: skip
                post.edit_chain.append(edit.post_id)
                edit.edit_chain = post.edit_chain
                self.posts[platform].append(edit)
        elif platform == "instagram":
            tag = rng.choice(self.ig_hashtags)
            post = SimPost(platform, str(17_900_000_000_000_000 + sequence), moment, f"{text} #{tag}", author,
                           tag, **counts, hashtags=[tag])  # fmt: skip
            self.posts[platform].append(post)
        elif platform == "facebook":
            page = rng.choice(FACEBOOK_PAGES)
            self.posts[platform].append(
                SimPost(platform, f"{page}_{10_000_000_000 + sequence}", moment, text, page, page, **counts)
            )
        else:
            query = rng.choice(self.yt_queries)
            video = f"v{sequence:010d}"
            self.posts[platform].append(
                SimPost(platform, video, moment, f"{place} vlog: {text}", author, query, **counts)
            )

    def offered(self, platform: str, first: datetime, last: datetime) -> set[str]:
        """The stored-row ids of the posts a complete collector could have stored whose creation
        falls in ``first``..``last``: X retweets excluded (the queries ask for none) and an edit
        chain counted once, under its first id."""
        out = set()
        for post in self.posts[platform]:
            if first <= post.created_at < last and not post.retweet and post.version_of is None:
                out.add(post.post_id)
        return out


def _poisson(rng: random.Random, rate: float) -> int:
    if rate <= 0:
        return 0
    threshold, k, product = math.exp(-rate), 0, rng.random()
    while product > threshold:
        k += 1
        product *= rng.random()
    return k


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)
