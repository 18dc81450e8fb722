"""The image's dependency layer: print the requirements of the project (with the extras named on
the command line) and of its build backend, read from pyproject.toml alone.

    python requirements.py celery k8s > requirements.txt

deploy/Dockerfile installs these under constraints.txt before it copies any code, so a code change
rebuilds only the thin layer that installs the project itself (``pip install --no-deps``).
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path


def requirements(pyproject: Path, extras: list[str]) -> list[str]:
    """Build requirements, then runtime ones, then those of each extra (and of extras it names)."""
    config = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    project = config["project"]
    found = [*config["build-system"]["requires"], *project["dependencies"]]
    optional = project.get("optional-dependencies", {})
    own = project["name"] + "["
    pending, seen = list(extras), set()
    while pending:
        extra = pending.pop(0)
        if extra in seen:
            continue
        if extra not in optional:
            raise SystemExit(f"{pyproject} has no extra {extra!r} (it has {', '.join(sorted(optional))})")
        seen.add(extra)
        for requirement in optional[extra]:
            if requirement.startswith(own):
                pending += requirement[len(own) : requirement.index("]")].split(",")
            else:
                found.append(requirement)
    return found


if __name__ == "__main__":
    here = Path.cwd() / "pyproject.toml"
    print("\n".join(requirements(here, sys.argv[1:])))
