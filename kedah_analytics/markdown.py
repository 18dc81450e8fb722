"""Markdown tables of a few rows, as the Dagster UI shows a write's preview and a run's partitions.

Built cell by cell rather than by pandas' ``to_markdown`` (tabulate), whose pipe tables keep a
cell's line breaks and ``|`` as they are: a post's line break split its row, and a partition key's
``|`` its cell. Here each cell is one line with ``|`` escaped, and a long one is cut (the warehouse
holds the whole value).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MAX_CELL_CHARS = 120


def cell(value: Any) -> str:
    """One cell: empty for a missing value, floats to six significant digits, one line."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = " ".join(str(value).split())
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - 1] + "…"
    return text.replace("|", "\\|")


def frame_table(frame: pd.DataFrame) -> str:
    """The frame as a Markdown table: a header row of its column names, then a row per row."""
    lines = [
        "| " + " | ".join(cell(name) for name in frame.columns) + " |",
        "|" + "|".join("---" for _ in frame.columns) + "|",
    ]
    # The rows as Python values in one conversion: itertuples takes a column at a time, which on a
    # preview of a few rows of a wide table costs more than the rows.
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in frame.to_numpy(dtype=object).tolist()]
    return "\n".join(lines)
