"""Scoring a sentiment classifier against labelled posts, and reading labelled posts from TSV.

A labelled file is tab-separated with the header ``text<TAB>label`` and labels ``positive``,
``neutral`` or ``negative``. Texts may be CSV-quoted (wrapped in double quotes with inner quotes
doubled, as pandas writes them) or bare with quotes inside; bytes that are not UTF-8 are replaced, blank lines skipped.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from kedah_analytics.classify.base import LABELS, SentimentClassifier

# How far a quoted text may run over line breaks before the file is read as having a stray quote.
_MAX_QUOTED_LINES = 50


class LabelledDataError(ValueError):
    """A labelled file that cannot be read; the message names the file and line."""


class LabelledTexts(NamedTuple):
    texts: list[str]
    labels: list[str]


def normalize_label(label: str) -> str | None:
    """The canonical label for ``label`` (case and spaces ignored), or None when unknown."""
    value = label.strip().strip('"').strip().lower()
    return value if value in LABELS else None


def _parse_quoted(chunk: str) -> list[str] | None:
    try:
        rows = list(csv.reader(io.StringIO(chunk), delimiter="\t", quotechar='"', strict=True))
    except csv.Error:
        return None
    if len(rows) != 1 or len(rows[0]) != 2:
        return None
    return rows[0]


def read_labelled_tsv(path: str | Path) -> LabelledTexts:
    """Read ``text<TAB>label`` rows from ``path``.

    Raises :class:`LabelledDataError` naming the line for a missing header, a row without a tab or
    an unknown label, and :class:`FileNotFoundError` for a missing file.
    """
    path = Path(path)
    raw = path.read_bytes()
    content = raw.decode("utf-8", errors="replace").removeprefix("\ufeff")
    # Split on newlines only: str.splitlines() would also split on U+2028 and U+0085 inside posts.
    lines = [line.removesuffix("\r") for line in content.split("\n")]

    index = 0
    while index < len(lines) and not lines[index].strip():
        index += 1
    if index == len(lines):
        raise LabelledDataError(f"{path}: the file is empty; expected a header line 'text<TAB>label'")
    header = [h.strip().strip('"').lower() for h in lines[index].split("\t")]
    if header != ["text", "label"]:
        raise LabelledDataError(
            f"{path}:{index + 1}: expected the header 'text<TAB>label', found {lines[index][:80]!r}"
        )

    texts: list[str] = []
    labels: list[str] = []
    index += 1
    while index < len(lines):
        line = lines[index]
        line_no = index + 1
        index += 1
        if not line.strip():
            continue
        fields: list[str] | None = None
        if line.startswith('"'):
            chunk = line
            fields = _parse_quoted(chunk)
            extra = 0
            # A quoted text may hold line breaks: read on until the record closes.
            while fields is None and extra < _MAX_QUOTED_LINES and index + extra < len(lines):
                chunk += "\n" + lines[index + extra]
                extra += 1
                fields = _parse_quoted(chunk)
                if fields is not None and normalize_label(fields[1]) is None:
                    fields = None
            if fields is not None:
                index += extra
        if fields is None:
            if "\t" not in line:
                raise LabelledDataError(
                    f"{path}:{line_no}: expected 'text<TAB>label', found no tab in {line[:80]!r}"
                )
            fields = line.rsplit("\t", 1)
        text, label_field = fields
        label = normalize_label(label_field)
        if label is None:
            raise LabelledDataError(
                f"{path}:{line_no}: unknown label {label_field.strip()[:40]!r}; "
                f"expected one of {', '.join(LABELS)}"
            )
        texts.append(text)
        labels.append(label)
    return LabelledTexts(texts, labels)


def _f1(tp: int, fp: int, fn: int) -> float:
    denominator = 2 * tp + fp + fn
    return 2 * tp / denominator if denominator else 0.0


def scores(true: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    """Accuracy, macro-F1, macro-recall and per-label F1 over the three labels."""
    if len(true) != len(predicted):
        raise ValueError(f"{len(true)} labels but {len(predicted)} predictions")
    if not true:
        raise ValueError("no labelled posts to score")
    figures: dict[str, float] = {}
    f1s: list[float] = []
    recalls: list[float] = []
    for label in LABELS:
        tp = sum(1 for t, p in zip(true, predicted, strict=True) if t == label and p == label)
        fp = sum(1 for t, p in zip(true, predicted, strict=True) if t != label and p == label)
        fn = sum(1 for t, p in zip(true, predicted, strict=True) if t == label and p != label)
        f1 = _f1(tp, fp, fn)
        f1s.append(f1)
        recalls.append(tp / (tp + fn) if tp + fn else 0.0)
        figures[f"f1_{label}"] = f1
    figures["accuracy"] = sum(1 for t, p in zip(true, predicted, strict=True) if t == p) / len(true)
    figures["macro_f1"] = sum(f1s) / len(f1s)
    figures["macro_recall"] = sum(recalls) / len(recalls)
    return figures


def evaluate(classifier: SentimentClassifier, texts: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Classify ``texts`` once and score the labels against ``labels``.

    Returns the classifier's name and version, the number of posts, accuracy, macro_f1,
    macro_recall, f1_positive, f1_neutral, f1_negative and posts_per_second (wall clock of the one
    predict call).
    """
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels")
    true: list[str] = []
    for i, label in enumerate(labels):
        canonical = normalize_label(label)
        if canonical is None:
            raise ValueError(f"label {i}: unknown label {label!r}; expected one of {', '.join(LABELS)}")
        true.append(canonical)
    started = time.perf_counter()
    predictions = classifier.predict(list(texts))
    elapsed = time.perf_counter() - started
    if len(predictions) != len(texts):
        raise ValueError(f"{classifier.name} returned {len(predictions)} results for {len(texts)} texts")
    figures = scores(true, [p.label for p in predictions])
    return {
        "classifier": classifier.name,
        "version": classifier.version,
        "posts": len(texts),
        "accuracy": figures["accuracy"],
        "macro_f1": figures["macro_f1"],
        "macro_recall": figures["macro_recall"],
        "f1_positive": figures["f1_positive"],
        "f1_neutral": figures["f1_neutral"],
        "f1_negative": figures["f1_negative"],
        "posts_per_second": len(texts) / elapsed if elapsed > 0 else float("inf"),
    }


def format_report(figures: dict[str, Any]) -> str:
    """One ``name: value`` line per figure: ratios to 4 decimals, posts/s to a whole number."""
    lines = []
    for name, value in figures.items():
        if name == "posts_per_second" and isinstance(value, float) and value != float("inf"):
            shown = f"{value:.0f}"
        elif isinstance(value, float):
            shown = f"{value:.4f}"
        else:
            shown = str(value)
        lines.append(f"{name}: {shown}")
    return "\n".join(lines)
