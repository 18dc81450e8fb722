"""The shared text features: cleaning, negation, VADER speed-ups and the TF-IDF vectorizers."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from kedah_analytics.classify import features as F


def test_clean_text_replaces_urls_mentions_entities_and_junk():
    text = "Cantik!! &amp; best @ali_123 https://t.co/AbC?x=1 www.example.com\x00\ufffd end"
    assert F.clean_text(text) == "Cantik!! & best @user url url end"


@pytest.mark.parametrize("value", [None, "", "   \n\t ", b"", "\ufffd\ufffd"])
def test_clean_text_of_nothing_is_empty(value):
    assert F.clean_text(value) == ""


def test_clean_text_decodes_bytes_and_drops_lone_surrogates():
    assert F.clean_text(b"caf\xe9 best\xff") == "caf best"
    cleaned = F.clean_text("best \udcff sangat")
    cleaned.encode("utf-8")  # would raise on a lone surrogate
    assert cleaned == "best sangat"


def test_clean_text_truncates_long_text_at_a_word_boundary():
    text = "sedap " * 10_000
    cleaned = F.clean_text(text)
    assert len(cleaned) <= F.MAX_TEXT_CHARS
    assert cleaned.endswith("sedap")


def test_clean_text_folds_fancy_letters():
    assert F.clean_text("𝓫𝓮𝓼𝓽") == "best"


def test_negation_marks_the_governed_words_until_a_clause_break():
    post = F.read_post("Tak best sangat, tapi murah")
    assert post.tokens == ["tak", "neg_best", "neg_sangat", ",", "tapi", "murah"]
    # positive, negative, positive negated, negative negated
    assert post.lexicon_counts == (1, 0, 1, 0)


@pytest.mark.parametrize(
    "negator", ["tak", "tidak", "bukan", "x", "tiada", "jangan", "belum", "not", "isn't"]
)
def test_each_negator_negates(negator):
    post = F.read_post(f"{negator} best")
    assert post.tokens[-1] == "neg_best"
    assert post.lexicon_counts[2] == 1


def test_negation_written_as_one_word_is_split():
    assert F.read_post("xbest la").tokens == ["tak", "neg_best", "neg_la"]
    assert F.read_post("tkbest").tokens == ["tak", "neg_best"]


def test_elongated_words_still_hit_the_lexicon():
    post = F.read_post("Sedaaaaappp 😍")
    assert post.lexicon_counts[0] == 1
    assert post.valence[0] > 0  # the emoji's VADER valence


def test_vader_sees_malay_negation_as_not():
    assert F.vader_text("Tak best langsung") == "not best langsung"
    assert F.vader_text("best langsung") == "best langsung"


def test_fast_vader_matches_vader():
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    original = SentimentIntensityAnalyzer()
    fast = F.vader()
    texts = [
        "The food was GREAT but the service was not good!!!",
        "Kinda bad, kind of ok?",
        "nothing to see here",
        "",
        "I love Langkawi :) but hate the traffic",
        "no problem at all",
    ]
    for text in texts:
        assert fast.polarity_scores(text) == pytest.approx(original.polarity_scores(text)), text
    # Emoji: the same words are read, only spacing differs.
    emoji = "Langkawi 😍😍 best"
    assert fast.polarity_scores(emoji)["compound"] == pytest.approx(
        original.polarity_scores(emoji)["compound"], abs=0.02
    )


def test_ngram_tfidf_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    docs = [["a", "b", "a"], ["b", "c"], ["a", "c", "c", "d"], ["d"], []]
    ours = F.NgramTfidf(min_df=1).fit(docs)
    theirs = TfidfVectorizer(analyzer=lambda d: d, sublinear_tf=True, min_df=1).fit(docs)
    ours_matrix = ours.transform(docs).toarray()[:, 1:]  # column 0 is the unused one
    order = [ours.vocabulary[g] - 1 for g in theirs.get_feature_names_out()]
    np.testing.assert_allclose(ours_matrix[:, order], theirs.transform(docs).toarray(), rtol=1e-5)


def test_featurizer_rows_and_pickling_drops_the_word_memory():
    texts = ["best gila", "tak best", "mahal dan kotor", "", "😍"]
    featurizer = F.SentimentFeaturizer(char_min_df=1, word_min_df=1).fit(texts)
    matrix = featurizer.transform(texts)
    assert matrix.shape == (len(texts), featurizer.n_features)
    assert len(featurizer.feature_names()) == featurizer.n_features
    assert featurizer.chars._word_ids  # remembered while transforming
    restored = pickle.loads(pickle.dumps(featurizer))
    assert restored.chars._word_ids == {}
    np.testing.assert_allclose(restored.transform(texts).toarray(), matrix.toarray())
