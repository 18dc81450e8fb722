"""The shipped offline sentiment model: loads fast, reads any text, understands Malay negation."""

from __future__ import annotations

import numpy as np
import pytest

from kedah_analytics.classify.base import LABELS, Sentiment
from kedah_analytics.classify.evaluation import evaluate, read_labelled_tsv
from kedah_analytics.classify.offline import (
    DEFAULT_MODEL_PATH,
    ModelArtifactError,
    OfflineSentimentModel,
    VaderClassifier,
    load_timed,
)


@pytest.fixture(scope="module")
def model() -> OfflineSentimentModel:
    loaded, seconds = load_timed()
    print(f"\nshipped sentiment model {loaded.version} loaded in {seconds:.2f} s")
    return loaded


def label(model, text):
    return model.predict([text])[0]


def check(results: list[Sentiment], n: int) -> None:
    assert len(results) == n
    for r in results:
        assert r.label in LABELS
        assert -1.0 <= r.score <= 1.0
        assert 0.0 <= r.confidence <= 1.0


def test_shipped_model_loads_and_predicts(model):
    assert model.name == "offline-tfidf-linear"
    assert model.version
    assert DEFAULT_MODEL_PATH.stat().st_size < 6_000_000
    results = model.predict(
        ["Langkawi memang cantik, best sangat!", "Hotel ni kotor dan mahal.", "Bas ke Jitra"]
    )
    check(results, 3)
    assert [r.label for r in results] == ["positive", "negative", "neutral"]


@pytest.mark.parametrize(
    ("positive", "negated"),
    [
        ("best", "tak best"),
        ("sedap", "tidak sedap"),
        ("makanan dia sedap", "makanan dia tak sedap"),
        ("tempat ni best", "tempat ni x best"),
        ("the beach is good", "the beach is not good"),
    ],
)
def test_negation_flips_the_label(model, positive, negated):
    plain, flipped = model.predict([positive, negated])
    assert plain.label == "positive", plain
    assert flipped.label == "negative", flipped
    assert plain.score > 0 > flipped.score


def test_emoji(model):
    love, angry, happy_place, angry_place = model.predict(
        ["😍😍😍", "😡😡", "Pantai Cenang 😍", "Pantai Cenang 😡"]
    )
    check([love, angry, happy_place, angry_place], 4)
    assert love.label == "positive"
    assert angry.label == "negative"
    assert love.score > 0 > angry.score
    assert happy_place.score > angry_place.score


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "\ufffd", "\x00\x01"])
def test_empty_text_is_neutral(model, text):
    assert label(model, text) == Sentiment("neutral", 0.0, 1.0)


def test_very_long_text(model):
    text = "Langkawi sangat cantik dan best. " * 50_000  # 1.6 MB
    result = label(model, text)
    check([result], 1)
    assert result.label == "positive"


def test_text_that_was_not_utf8(model):
    raw = b"Hotel ni \xff\xfe teruk gila, caf\xe9 pun mahal \x80"
    decoded = raw.decode("utf-8", errors="replace")
    results = model.predict([decoded, raw, "teruk \udcff mahal"])  # str, bytes, lone surrogate
    check(results, 3)
    assert [r.label for r in results] == ["negative", "negative", "negative"]


def test_batch_equals_one_by_one_and_keeps_order(model):
    texts = ["best", "teruk", "", "Alor Setar hari ni", "@ali https://t.co/x 😍", "not bad at all"]
    batch = model.predict(texts)
    check(batch, len(texts))
    for text, result in zip(texts, batch, strict=True):
        one = label(model, text)
        assert one.label == result.label
        assert one.score == pytest.approx(result.score, abs=1e-6)


def test_probabilities_and_score(model):
    p = model.predict_proba(["best", "teruk", "Bas ke Jitra"])
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    results = model.predict(["best", "teruk", "Bas ke Jitra"])
    for row, result in zip(p, results, strict=True):
        assert result.score == pytest.approx(row[2] - row[0])
        assert result.confidence == pytest.approx(row.max())


def test_missing_artifact_is_a_clear_error(tmp_path):
    with pytest.raises(ModelArtifactError, match="train one with"):
        OfflineSentimentModel.load(tmp_path / "nope.joblib")
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelArtifactError, match="cannot read"):
        OfflineSentimentModel.load(bad)


def test_evaluate_the_shipped_model_on_a_tiny_file(model, tmp_path):
    path = tmp_path / "tiny.tsv"
    path.write_text(
        "text\tlabel\n"
        "Pantai Cenang cantik gila, memang best!\tpositive\n"
        "Servis hotel teruk, bilik kotor\tnegative\n"
        "Feri ke Langkawi bertolak jam 9 pagi\tneutral\n"
        "I love Langkawi so much\tpositive\n"
        "Worst trip ever, never again\tnegative\n",
        encoding="utf-8",
    )
    texts, labels = read_labelled_tsv(path)
    figures = evaluate(model, texts, labels)
    assert figures["classifier"] == "offline-tfidf-linear"
    assert figures["posts"] == 5
    assert figures["accuracy"] >= 0.8
    for name in ("accuracy", "macro_f1", "macro_recall", "f1_positive", "f1_neutral", "f1_negative"):
        assert 0.0 <= figures[name] <= 1.0


def test_vader_reference_classifier():
    vader = VaderClassifier()
    results = vader.predict(["I love it", "I hate it", "It is a bus"])
    assert [r.label for r in results] == ["positive", "negative", "neutral"]
    check(results, 3)


def test_shipped_metrics_are_the_shipped_models_and_measured_on_the_general_tweets(model):
    """The metrics file belongs to the shipped artifact and reports the general-tweets folds."""
    import json

    metrics = json.loads((DEFAULT_MODEL_PATH.parent / "sentiment_metrics.json").read_text())
    assert metrics["model_version"] == model.version
    general = metrics["malay_general_cross_validation"]
    assert "malay_twitter_train.tsv" in general["how"]
    shipped = general["shipped_model"]
    baseline = general["baseline_tfidf_logreg_general_only"]
    assert len(shipped["folds"]) == len(baseline["folds"]) == general["folds"]
    assert shipped["mean"] >= baseline["mean"] + 0.03
    assert metrics["english_held_out"]["shipped_model"]["macro_recall"] >= 0.65
    # The model's recorded settings are the ones the figures were chosen with.
    assert metrics["shipped"]["model"] == model.metadata["model"]
