"""A chunk classified at once (one sentiment call, each text read once) gives the very frame the
per-day, per-row implementation gave (classify_reference.py): dtypes, values and order."""

import random
import re
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest

from kedah_analytics.classify.posts import (
    RAW_COLUMNS_READ,
    SPAM_WINDOW_COLUMNS,
    classify_days,
    classify_posts,
)
from kedah_analytics.classify.registry import build_classifier
from kedah_analytics.domain import PLATFORMS
from kedah_analytics.places import PlaceLinker, alternation, load_places, normalize_joined, normalize_text
from kedah_analytics.sources.common.frames import posts_frame
from kedah_analytics.sources.demo.posts import DemoSource
from tests.classify import classify_reference as reference
from tests.pipeline.test_classifier_wiring import HalfFallback

DAYS = tuple(date(2026, 3, 2) + timedelta(days=i) for i in range(3))
COPY = "Cheap Langkawi island hopping tour package book now limited seats"


@pytest.fixture(scope="module")
def linker():
    return PlaceLinker(load_places())


@pytest.fixture(scope="module")
def offline():
    return build_classifier("offline", {})


def demo_rows(days):
    fetched = datetime(2026, 4, 1, tzinfo=UTC)
    frames = [posts_frame(DemoSource(clock=lambda: fetched).fetch_posts(p, list(days)).posts, fetched, days)[0]
              for p in PLATFORMS]  # fmt: skip
    return pd.concat(frames, ignore_index=True).drop(columns=["payload"])


def edge_rows():
    """Withheld posts, missing counts and followers, no hashtags, a final "Sg." (read as Sungai only
    before the hashtags), a copy from another account the day before, an empty day."""
    day, before = DAYS[1], DAYS[0]
    rows = [
        ("e1", day, "Makan kat Sg. Petani, sedap Sg.", ["SungaiPetani"], 3, None, None, False, "a"),
        ("e2", day, "Jalan ke Sg Petani sg", None, None, 2, 40, False, "b"),
        ("e3", day, COPY, [], 0, 0, None, False, "c"),
        ("e4", before, COPY, [], 0, 0, 5, False, "d"),
        ("e5", day, "", ["Langkawi"], 1, 1, 1, True, "e"),
        ("e6", day, "Pantai Cenang cantik!", ["Langkawi", "#Kedah"], 9, 1, None, True, "f"),
        ("e7", before, "   ", [], None, None, None, False, None),
    ]
    return pd.DataFrame(
        [{"platform": "instagram", "post_id": p, "date": d, "created_at": pd.Timestamp(d, tz="UTC"),
          "text": t, "author_id": a, "hashtags": h, "like_count": likes, "comment_count": c,
          "share_count": 0, "view_count": views, "provider": "x", "author_followers": None if p == "e1" else 10,
          "is_withheld": w} for p, d, t, h, likes, c, views, w, a in rows]
    )  # fmt: skip


def both(raw, window, days, linker, classifier):
    new = classify_days(raw, window, days, linker, classifier, 1)
    old = reference.classify_days(raw, window, days, linker, classifier, 1)
    pd.testing.assert_frame_equal(new, old, check_exact=True)
    return new


def test_a_demo_chunk_classifies_as_day_by_day(linker, offline):
    window = demo_rows((DAYS[0] - timedelta(days=1), *DAYS))
    raw = window[window["platform"] == "twitter"].reset_index(drop=True)
    out = both(raw, window[["date", "text", "author_id"]], DAYS, linker, offline)
    assert len(out) == (raw["date"].isin(DAYS)).sum() and out["is_spam"].any()


def test_fingerprints_taken_from_the_window_give_the_same_frame(linker, offline):
    """The window read with each post's platform and id lends the chunk its fingerprints; a post
    the window lacks, or holds with another text (rewritten between the two reads), is
    fingerprinted from the chunk's own text."""
    window = demo_rows((DAYS[0] - timedelta(days=1), *DAYS))[list(SPAM_WINDOW_COLUMNS)]
    raw = demo_rows(DAYS)  # every platform: each post of the chunk is in the window
    first = raw.iloc[0]
    rewritten = window.copy()
    rewritten.loc[
        (rewritten["platform"] == first["platform"]) & (rewritten["post_id"] == first["post_id"]), "text"
    ] = COPY
    copy_elsewhere = {
        "date": first["date"],
        "text": COPY,
        "author_id": "someone-else",
        "platform": "x",
        "post_id": "c",
    }
    rewritten = pd.concat([rewritten, pd.DataFrame([copy_elsewhere])], ignore_index=True)
    for seen in (window, window.iloc[::2], rewritten):
        out = both(raw, seen, DAYS, linker, offline)
    # Taken from the rewritten window, the first post would be a copy of someone else's.
    assert not out.set_index(["platform", "post_id"]).loc[(first["platform"], first["post_id"]), "is_spam"]


def test_the_raw_columns_the_asset_reads_are_all_the_classification_needs(linker, offline):
    """classified_posts reads RAW_COLUMNS_READ of a raw post, not the whole row: with only those
    columns, the very same frame (a column left out, followers say, would fall back to None)."""
    for raw, days in ((edge_rows(), (DAYS[1], DAYS[0])), (demo_rows(DAYS[:1]), DAYS[:1])):
        window = raw[["date", "text", "author_id"]]
        pd.testing.assert_frame_equal(
            classify_days(raw[list(RAW_COLUMNS_READ)], window, days, linker, offline, 1),
            classify_days(raw, window, days, linker, offline, 1),
            check_exact=True,
        )
    assert set(RAW_COLUMNS_READ) < set(demo_rows(DAYS[:1]).columns)


def test_edge_rows_classify_as_day_by_day(linker, offline):
    raw = edge_rows()
    window = raw[["date", "text", "author_id"]]
    out = both(raw, window, (DAYS[1], DAYS[2], DAYS[0]), linker, offline)
    assert out.set_index("post_id").loc["e3", "is_spam"]  # the copy of the day before counts
    both(raw, window, (DAYS[2],), linker, offline)  # no posts that day
    both(raw, window.iloc[:0], DAYS, linker, HalfFallback())  # a fallback classifier, no window


def test_one_day_alone_is_unchanged(linker, offline):
    raw = edge_rows()
    pd.testing.assert_frame_equal(
        classify_posts(raw, linker, offline), reference.classify_posts(raw, linker, offline), check_exact=True
    )


@pytest.mark.parametrize(
    "text",
    ["Pergi Sg. Petani", "pergi sg", "SG.", "sg.  ", "Sunset!", "", "!!", "Σ", "word ΣΣ.", "x-sg", "ok #sg"],
)
@pytest.mark.parametrize("words", ["", "sungaipetani kedah", "Sg petani", "#x", "-"])
def test_normalizing_a_text_and_its_hashtags_at_once_or_apart_agree(text, words):
    assert normalize_joined(text, normalize_text(text), words) == normalize_text(text + " " + words)


def test_the_prefix_tree_of_aliases_matches_what_their_plain_alternation_matches(linker):
    aliases = [alias for alias, _, _ in linker._aliases]  # longest first
    plain = re.compile(rf"(?<![\w])#?({'|'.join(re.escape(a) for a in aliases)})(?![\w])")
    rng = random.Random(21)
    pieces = [*aliases, *(a[: len(a) // 2] for a in aliases), "#", "-", "x", "the", "'", "  "]
    for _ in range(3000):
        text = " ".join(rng.choice(pieces) + rng.choice(["", "", "-", "#", "x", "'s"]) for _ in range(6))
        expected = [(m.span(), m.group(1)) for m in plain.finditer(text)]
        assert [(m.span(), m.group(1)) for m in linker._pattern.finditer(text)] == expected
    assert alternation(["abc", "ab", "b"]) == "(?:ab(?:c)?|b)"
