"""The training helpers: folds over the Malay posts, per-fold features equal to a refit, and the
general-tweets cross-validation the shipped model is chosen and reported by."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kedah_analytics.classify import cross_validation as CV
from kedah_analytics.classify import training as T
from kedah_analytics.classify.base import LABELS
from kedah_analytics.classify.features import SentimentFeaturizer
from kedah_analytics.classify.fold_features import FoldFeatures

FEATURES = {
    "char_ngram_range": (2, 4),
    "word_ngram_range": (1, 2),
    "char_min_df": 2,
    "word_min_df": 2,
    "max_char_features": 60,
    "max_word_features": 15,
    "vader_mode": "words",
    "use_lexicon": True,
}
ENGLISH = ["good food", "bad service", "the view", "not good at all", "great beach", "so bad"] * 5
MALAY = ["sedap gila", "tak sedap", "mahal sangat", "best tempat ni", "x best", "biasa je"] * 5


def _write(path: Path, texts: list[str], labels: list[str]) -> None:
    path.write_text("text\tlabel\n" + "".join(f"{t}\t{y}\n" for t, y in zip(texts, labels, strict=True)))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> T.Corpus:
    folder = tmp_path_factory.mktemp("sentiment")
    cycle = ["positive", "negative", "neutral"]
    _write(folder / T.FILES["english"], ENGLISH, [cycle[i % 3] for i in range(len(ENGLISH))])
    _write(folder / T.FILES["malay_twitter"], MALAY, [cycle[i % 3] for i in range(len(MALAY))])
    _write(folder / T.FILES["malay_politics"], MALAY[::-1], [cycle[(i + 1) % 3] for i in range(len(MALAY))])
    return T.load_corpus(folder)


def test_malay_folds_cover_each_malay_post_once_per_repeat(corpus):
    folds = T.malay_folds(corpus, repeats=2, folds=3)
    assert len(folds) == 6
    malay = set(corpus.rows(*T.MALAY_SOURCES).tolist())
    for repeat in (folds[:3], folds[3:]):
        tested = np.concatenate([test for _, test in repeat])
        assert sorted(tested.tolist()) == sorted(malay)
    for train, test in folds:
        assert not set(train) & set(test)
        assert set(train.tolist()) | set(test.tolist()) == malay
    assert folds[0][1].tolist() != folds[3][1].tolist()  # repeats shuffle differently


def test_fold_features_equal_a_featurizer_fitted_on_the_fold(corpus):
    features = FoldFeatures(corpus, FEATURES)
    train, test = T.malay_folds(corpus, repeats=1, folds=3)[0]
    fit_rows = np.concatenate([corpus.rows("english"), train])
    ours = features.fold(fit_rows).matrix(test).toarray()
    featurizer = SentimentFeaturizer(**FEATURES).fit_posts([corpus.posts[i] for i in fit_rows])
    theirs = featurizer.transform_posts([corpus.posts[i] for i in test]).toarray()
    # The featurizer's vocabularies keep an empty column 0 each; otherwise the columns are in order.
    theirs = np.delete(theirs, [0, featurizer.chars.n_features], axis=1)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, atol=1e-6)


def test_baseline_learns_from_malay_posts(corpus):
    malay = corpus.rows("malay_twitter")
    model = CV.LinearBaseline().fit([corpus.texts[i] for i in malay], corpus.labels[malay])
    predicted = model.predict_labels([corpus.texts[i] for i in malay])
    assert CV.macro_f1(corpus.labels[malay], predicted) > 0.9


def test_spread_reports_mean_and_sample_std():
    figures = CV.spread([0.5, 0.7])
    assert figures["mean"] == 0.6
    assert figures["std"] == pytest.approx(0.1414, abs=1e-4)


def test_general_folds_test_only_general_tweets_and_train_on_politics_too(corpus):
    general = set(corpus.rows("malay_twitter").tolist())
    politics = set(corpus.rows("malay_politics").tolist())
    folds = T.general_folds(corpus, repeats=2, folds=3)
    assert len(folds) == 6
    for repeat in (folds[:3], folds[3:]):
        tested = np.concatenate([test for _, test in repeat])
        assert sorted(tested.tolist()) == sorted(general)  # each general tweet tested once a repeat
    for train, test in folds:
        assert set(test.tolist()) <= general
        assert politics <= set(train.tolist())
        assert set(train.tolist()) | set(test.tolist()) == general | politics
        assert not set(train.tolist()) & set(test.tolist())
        # stratified by label: every fold tests every label
        assert set(corpus.labels[test]) == set(LABELS)


CONFIG = {"kind": "linear_svc", "C": 0.5, "malay_weight": 1.0, "synthetic_weight": 0.0}


def test_cross_validation_scores_settings_and_baselines_on_the_same_folds(corpus):
    features = FoldFeatures(corpus, FEATURES)
    folds = T.general_folds(corpus, repeats=1, folds=3)
    english_train, _ = T.english_split(corpus)
    experiment = CV.Experiment(corpus, features, [CONFIG], english_train)
    cv = CV.malay_cross_validation(experiment, folds, baselines=CV.BASELINES)
    name = CV.config_name(CONFIG)
    assert set(cv.fold_f1) == {name, "baseline", "baseline_with_politics"}
    n_general = len(corpus.rows("malay_twitter"))
    for key in cv.fold_f1:
        report = cv.report(key)
        assert len(report["folds"]) == 3
        assert set(report["f1_per_class"]) == set(LABELS)
        counts = np.array(report["confusion"]["counts"])
        # Each general tweet is tested once in one repeat: the confusion matrix counts them all,
        # rows by true label.
        assert counts.sum() == n_general
        true = corpus.labels[corpus.rows("malay_twitter")]
        assert counts.sum(axis=1).tolist() == [int((true == label).sum()) for label in LABELS]
        f1 = np.mean(report["folds"])
        assert report["mean"] == pytest.approx(f1, abs=1e-4)
    # The out-of-fold logits cover exactly the general tweets.
    scored = np.flatnonzero(np.abs(cv.logits[name]).sum(axis=1) > 0)
    assert sorted(scored.tolist()) == sorted(corpus.rows("malay_twitter").tolist())


def test_baselines_learn_only_from_their_files(corpus, monkeypatch):
    seen: list[int] = []
    original = CV.LinearBaseline.fit

    def spy(self, texts, labels):
        seen.append(len(texts))
        return original(self, texts, labels)

    monkeypatch.setattr(CV.LinearBaseline, "fit", spy)
    features = FoldFeatures(corpus, FEATURES)
    folds = T.general_folds(corpus, repeats=1, folds=3)
    english_train, _ = T.english_split(corpus)
    CV.malay_cross_validation(
        CV.Experiment(corpus, features, [], english_train), folds, baselines=CV.BASELINES
    )
    n_politics = len(corpus.rows("malay_politics"))
    for k, (train, _) in enumerate(folds):
        n_general_train = len(train) - n_politics
        assert seen[2 * k] == n_general_train  # "baseline": the general training folds only
        assert seen[2 * k + 1] == n_general_train + n_politics  # "baseline_with_politics"
