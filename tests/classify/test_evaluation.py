"""Reading labelled TSV files and scoring a classifier against them."""

from __future__ import annotations

import pytest

from kedah_analytics.classify.base import Sentiment
from kedah_analytics.classify.evaluation import (
    LabelledDataError,
    evaluate,
    format_report,
    read_labelled_tsv,
    scores,
)


class KeywordClassifier:
    """Positive on "best", negative on "teruk", else neutral."""

    name = "keyword"
    version = "test"

    def predict(self, texts):
        out = []
        for text in texts:
            if "best" in text:
                out.append(Sentiment("positive", 0.8, 0.9))
            elif "teruk" in text:
                out.append(Sentiment("negative", -0.8, 0.9))
            else:
                out.append(Sentiment("neutral", 0.0, 0.6))
        return out


def write(tmp_path, content: bytes, name="posts.tsv"):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_reads_quotes_bad_bytes_blank_lines_and_crlf(tmp_path):
    content = (
        b"\xef\xbb\xbftext\tlabel\r\n"
        b"Pantai Cenang best\tpositive\r\n"
        b"\r\n"
        b'"He said ""best"" tapi\tteruk"\tnegative\n'  # CSV-quoted, as pandas writes it
        b'Ali kata "ok je" hari ni\tneutral\n'  # bare quotes inside
        b'"Best trip" said Ali\tPositive\n'  # starts with a quote but is not CSV-quoted
        b"caf\xe9 \xff teruk\t negative \n"  # not UTF-8
        b'"two\nlines"\tneutral\n'  # a quoted line break
        b"   \n"
    )
    texts, labels = read_labelled_tsv(write(tmp_path, content))
    assert texts == [
        "Pantai Cenang best",
        'He said "best" tapi\tteruk',
        'Ali kata "ok je" hari ni',
        '"Best trip" said Ali',
        "caf\ufffd \ufffd teruk",
        "two\nlines",
    ]
    assert labels == ["positive", "negative", "neutral", "positive", "negative", "neutral"]


def test_missing_header_names_the_line(tmp_path):
    path = write(tmp_path, b"\n\nbest\tpositive\n")
    with pytest.raises(LabelledDataError, match=r"posts\.tsv:3: expected the header 'text<TAB>label'"):
        read_labelled_tsv(path)


def test_unknown_label_names_the_line(tmp_path):
    path = write(tmp_path, b"text\tlabel\nbest\tpositive\n\nok\tmixed\n")
    with pytest.raises(LabelledDataError, match=r"posts\.tsv:4: unknown label 'mixed'"):
        read_labelled_tsv(path)


def test_row_without_a_tab_names_the_line(tmp_path):
    path = write(tmp_path, b"text\tlabel\nbest positive\n")
    with pytest.raises(LabelledDataError, match=r"posts\.tsv:2: expected 'text<TAB>label'"):
        read_labelled_tsv(path)


def test_empty_file(tmp_path):
    with pytest.raises(LabelledDataError, match="empty"):
        read_labelled_tsv(write(tmp_path, b""))


def test_scores_match_scikit_learn():
    from sklearn.metrics import accuracy_score, f1_score, recall_score

    true = ["positive", "negative", "neutral", "neutral", "positive", "negative", "negative"]
    pred = ["positive", "neutral", "neutral", "positive", "positive", "negative", "positive"]
    figures = scores(true, pred)
    labels = ["negative", "neutral", "positive"]
    assert figures["accuracy"] == pytest.approx(accuracy_score(true, pred))
    assert figures["macro_f1"] == pytest.approx(f1_score(true, pred, average="macro", labels=labels))
    assert figures["macro_recall"] == pytest.approx(recall_score(true, pred, average="macro", labels=labels))
    per_label = f1_score(true, pred, average=None, labels=labels)
    assert [figures["f1_negative"], figures["f1_neutral"], figures["f1_positive"]] == pytest.approx(per_label)


def test_evaluate_a_tiny_labelled_file(tmp_path):
    path = write(
        tmp_path,
        b"text\tlabel\n"
        b"Langkawi memang best\tpositive\n"
        b"Hotel teruk\tnegative\n"
        b"Jalan ke Jitra\tneutral\n"
        b"best tapi jauh\tneutral\n",
    )
    texts, labels = read_labelled_tsv(path)
    figures = evaluate(KeywordClassifier(), texts, labels)
    assert figures["posts"] == 4
    assert figures["accuracy"] == pytest.approx(0.75)
    assert figures["f1_negative"] == pytest.approx(1.0)
    assert figures["f1_positive"] == pytest.approx(2 / 3)
    assert figures["f1_neutral"] == pytest.approx(2 / 3)
    assert figures["macro_f1"] == pytest.approx((1 + 2 / 3 + 2 / 3) / 3)
    assert figures["macro_recall"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert figures["posts_per_second"] > 0

    report = format_report(figures).splitlines()
    assert report[0] == "classifier: keyword"
    assert "accuracy: 0.7500" in report
    assert all(": " in line for line in report)
    names = [line.split(": ")[0] for line in report]
    for name in ("accuracy", "macro_f1", "macro_recall", "f1_positive", "f1_neutral", "f1_negative"):
        assert name in names


def test_evaluate_rejects_mismatched_or_unknown_labels():
    with pytest.raises(ValueError, match="2 texts but 1 labels"):
        evaluate(KeywordClassifier(), ["a", "b"], ["neutral"])
    with pytest.raises(ValueError, match="unknown label 'meh'"):
        evaluate(KeywordClassifier(), ["a"], ["meh"])
