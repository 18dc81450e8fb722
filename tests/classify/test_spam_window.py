"""The near-duplicate spam signal as a function of its window: what changes when another
platform's copy of a text arrives, and what the re-classification sensor compares."""

import pandas as pd

from kedah_analytics.classify.posts import posts_spam, stale_spam

COPY = "Cheap Langkawi island hopping tour package book now limited seats"


def raw(*posts: tuple[str, str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"post_id": p, "text": t, "author_id": a, "hashtags": [], "is_withheld": False} for p, t, a in posts]
    )


def test_a_copy_from_another_account_on_another_platform_raises_the_score():
    posts = raw(("1", COPY, "alice"), ("2", "Sunset at Pantai Cenang was beautiful tonight", "bob"))
    alone = posts_spam(posts, posts[["text", "author_id"]])
    window = pd.concat(
        [posts[["text", "author_id"]], pd.DataFrame([{"text": COPY.upper(), "author_id": "carol"}])]
    )
    with_copy = posts_spam(posts, window)
    assert "same text from several accounts" not in alone[0].reasons
    assert "same text from several accounts" in with_copy[0].reasons and with_copy[0].score > alone[0].score
    assert with_copy[1] == alone[1]
    stored = {"1": alone[0].score, "2": alone[1].score}
    assert stale_spam(posts, window, stored) == ["1"]
    assert stale_spam(posts, posts[["text", "author_id"]], stored) == []
    # A post not classified yet is its own run's business.
    assert stale_spam(posts, window, {"2": alone[1].score}) == []


def test_a_copy_from_the_same_account_or_a_withheld_post_is_not_a_duplicate():
    posts = raw(("1", COPY, "alice"))
    window = pd.DataFrame([{"text": COPY, "author_id": "alice"}])
    assert "same text from several accounts" not in posts_spam(posts, window)[0].reasons
    withheld = posts.assign(is_withheld=True)
    other = pd.DataFrame([{"text": COPY, "author_id": "carol"}])
    assert "same text from several accounts" not in posts_spam(withheld, other)[0].reasons


def test_a_window_fingerprinted_once_answers_every_platform_as_the_frame_does():
    """The sensor fingerprints a day's window once and asks it for each platform's posts."""
    import random

    from kedah_analytics.classify.posts import window_index
    from kedah_analytics.classify.text import duplicated_keys, near_duplicate_keys

    texts = [
        COPY,
        COPY.lower() + "!",
        "Sunset at Pantai Cenang was beautiful tonight",
        "short one",
        COPY + " 2",
    ]
    rng = random.Random(7)
    window = pd.DataFrame([{"text": rng.choice(texts), "author_id": rng.choice("abcd")} for _ in range(40)])
    index = window_index(window)
    for _ in range(20):
        batch = [(rng.choice(texts), rng.choice("abcde")) for _ in range(rng.randint(1, 6))]
        keys, authors = near_duplicate_keys([t for t, _ in batch]), [a for _, a in batch]
        # The definition: a key of five words or more posted by two accounts, batch and window together.
        every = list(
            zip(
                keys + near_duplicate_keys(window["text"].tolist()),
                authors + window["author_id"].tolist(),
                strict=True,
            )
        )
        expected = [len(k.split()) >= 5 and len({a for kk, a in every if kk == k}) > 1 for k in keys]
        assert index.duplicated(keys, authors) == expected
        assert (
            duplicated_keys(
                keys, authors, near_duplicate_keys(window["text"].tolist()), window["author_id"].tolist()
            )
            == expected
        )
    posts = raw(("1", COPY, "alice"), ("2", "Sunset at Pantai Cenang was beautiful tonight", "bob"))
    copy = pd.concat([posts[["text", "author_id"]], pd.DataFrame([{"text": COPY, "author_id": "carol"}])])
    stored = {p.post_id: s.score for p, s in zip(posts.itertuples(), posts_spam(posts, None), strict=True)}
    assert stale_spam(posts, window_index(copy), stored) == stale_spam(posts, copy, stored) == ["1"]


def test_a_post_without_an_author_is_not_a_copy_of_itself_from_another_account():
    """Instagram's hashtag search names no author. The platform's own rows read alone give the
    missing ids as None; the window, mixing platforms, gives them as NaN: both are "no author"."""
    posts = raw(("1", COPY, None), ("2", "Sunset at Pantai Cenang was beautiful tonight", None))
    window = pd.DataFrame.from_records(
        [(COPY, None), ("Sunset at Pantai Cenang was beautiful tonight", None), ("Nasi lemak pagi", "dave")],
        columns=["text", "author_id"],
    )
    assert posts["author_id"].tolist() == [None, None]
    assert window["author_id"].isna().tolist() == [True, True, False] and window["author_id"][0] is not None
    assert not any("same text from several accounts" in s.reasons for s in posts_spam(posts, window))
    # A copy from an account that is named is still one.
    copied = pd.concat([window, pd.DataFrame([{"text": COPY, "author_id": "carol"}])], ignore_index=True)
    assert "same text from several accounts" in posts_spam(posts, copied)[0].reasons
