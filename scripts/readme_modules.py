"""Rewrite the README's module map from the code: every module of the four packages with the first
line of its docstring.

Run after adding, moving or re-describing a module; tests/test_architecture.py fails until the
README's map matches the code.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PACKAGES = ("kedah_analytics", "assets", "resources", "sensors")
BEGIN, END = "<!-- module map: scripts/readme_modules.py -->", "<!-- end of module map -->"


def _summary(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(), filename=str(path))) or ""
    first = " ".join(doc.split("\n\n")[0].split())
    return first.replace("|", "\\|")


def module_map(root: Path = ROOT) -> str:
    """A Markdown table: module path and what it is, packages by their ``__init__``."""
    lines = ["| module | what it is |", "|---|---|"]
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root)
            if path.name == "__init__.py" and not path.read_text().strip():
                continue
            shown = f"{rel.parent}/" if path.name == "__init__.py" else str(rel)
            lines.append(f"| `{shown}` | {_summary(path)} |")
    return "\n".join(lines)


def replace_map(text: str, table: str) -> str:
    pattern = re.compile(re.escape(BEGIN) + r"\n.*?" + re.escape(END), re.S)
    new, found = pattern.subn(lambda _: f"{BEGIN}\n{table}\n{END}", text, count=1)
    if not found:
        raise SystemExit(f"README.md has no {BEGIN!r} ... {END!r} block")
    return new


def main() -> None:
    text = README.read_text()
    new = replace_map(text, module_map())
    if "--check" in sys.argv:
        sys.exit(
            0 if new == text else "README.md's module map is stale: run python scripts/readme_modules.py"
        )
    README.write_text(new)


if __name__ == "__main__":
    main()
