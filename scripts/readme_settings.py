"""Rewrite the README's two configuration tables from kedah_analytics/config/settings.py.

Run after adding or changing a Setting; tests/test_architecture.py fails until the README matches.
"""

from __future__ import annotations

import re
from pathlib import Path

from kedah_analytics.config import settings

README = Path(__file__).resolve().parents[1] / "README.md"
HEADERS = {settings.SOURCES: "| variable | unlocks |", settings.CORE: "| variable | what it does |"}


def main() -> None:
    text = README.read_text()
    for group, header in HEADERS.items():
        table = settings.markdown_table(group).replace("| variable | what it does |", header)
        pattern = re.compile(re.escape(header) + r"\n\|---\|---\|\n(?:\|.*\|\n)*")
        text, found = pattern.subn(table + "\n", text, count=1)
        if not found:
            raise SystemExit(f"README.md has no table headed {header!r}")
    README.write_text(text)


if __name__ == "__main__":
    main()
