"""The previews' Markdown tables: one line a row, whatever the cells hold."""

from __future__ import annotations

import math

import pandas as pd

from kedah_analytics.markdown import MAX_CELL_CHARS, cell, frame_table


def test_a_post_with_line_breaks_and_pipes_stays_one_row_of_the_table():
    frame = pd.DataFrame(
        {
            "post_id": ["1", "2"],
            "text": ["Pantai Cenang | sunset\nwow\r\n#langkawi", "x" * 500],
            "sentiment": [0.123456789, math.nan],
            "likes": [3, None],
            "created_at": pd.to_datetime(["2026-11-10T08:00Z", "2026-11-10T09:30Z"]),
        }
    )
    lines = frame_table(frame).split("\n")
    assert lines[0] == "| post_id | text | sentiment | likes | created_at |"
    assert lines[1] == "|---|---|---|---|---|"
    assert (
        lines[2]
        == "| 1 | Pantai Cenang \\| sunset wow #langkawi | 0.123457 | 3 | 2026-11-10 08:00:00+00:00 |"
    )
    assert len(lines) == 4
    # A missing value is an empty cell; a long text is cut to the cell's length.
    cells = lines[3].split(" | ")
    assert cells[2:4] == ["", ""]
    assert cells[1] == "x" * (MAX_CELL_CHARS - 1) + "…"


def test_cells():
    assert cell(None) == "" and cell(float("nan")) == ""
    assert cell(2.0) == "2" and cell(1234567.0) == "1.23457e+06"
    assert cell(["a", "b"]) == "['a', 'b']"
    assert cell(True) == "True"
