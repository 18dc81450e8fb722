"""One home for reading post text: negators, chat spellings, model text and stored text."""

from __future__ import annotations

import pytest

from kedah_analytics.classify import features, lexicon, normalize
from kedah_analytics.classify.lexicon import LexiconSentiment
from kedah_analytics.classify.normalize import (
    MALAY_NEGATORS,
    MAX_POST_CHARS,
    normalize_spelling,
    post_text,
)


def test_one_negator_set_for_every_classifier():
    assert features.MALAY_NEGATORS is normalize.MALAY_NEGATORS
    assert lexicon.MALAY_NEGATORS is normalize.MALAY_NEGATORS
    # Single words only: a token is compared against the set.
    assert all(" " not in w for w in MALAY_NEGATORS)
    assert {"tak", "tidak", "x", "bukan", "tiada", "takde", "jangan", "belum"} <= MALAY_NEGATORS


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x best", "tak best"),
        ("tk sedap, tdk cantik", "tak sedap, tak cantik"),
        ("tidak sedap", "tak sedap"),
        ("sgt best mcm ni", "sangat best macam ni"),
        ("bole la, blh tahan", "boleh la, boleh tahan"),
        ("xde parking", "tiada parking"),
        ("gud food tq", "good food thanks"),
    ],
)
def test_chat_spellings_become_one_form(text, expected):
    assert normalize_spelling(text) == expected


@pytest.mark.parametrize(
    "text",
    ["xbox", "sgtbest", "#sgt", "@sgt", "spa best", "boring", "taxi", "x-ray", "u-turn"],
)
def test_only_whole_words_listed_are_changed(text):
    assert normalize_spelling(text) == text


def test_the_offline_featurizer_and_the_lexicon_read_the_same_spelling():
    assert features.read_post("Sgt sedap").tokens == ["sangat", "sedap"]
    assert features.read_post("X sedap").tokens == ["tak", "neg_sedap"]
    lexicon_model = LexiconSentiment()
    assert lexicon_model.predict(["mkn kat sini x sedap"])[0].label == "negative"
    assert lexicon_model.score("tak sedap") == lexicon_model.score("x sdp")


def test_post_text_keeps_links_and_mentions_and_cuts_long_posts():
    text = "Cantik @ali https://t.co/x\x00 end"
    assert post_text(text) == "Cantik @ali https://t.co/x  end"
    assert post_text(None) == "" and post_text(b"caf\xc3\xa9") == "café"
    long = post_text("sedap " * 5000)
    assert len(long) <= MAX_POST_CHARS and long.endswith("sedap")
