"""The code location loads without the heavy libraries that only some steps need: every run
worker, UI reload, sensor tick and CLI command imports it (bench/bench_import.py times it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Loaded by the step that needs them (training, scoring, a real source), never at import.
LAZY = ("sklearn", "scipy", "joblib", "matplotlib", "google.genai")


def test_importing_the_code_location_leaves_heavy_libraries_unloaded() -> None:
    probe = (
        "import json, sys\n"
        "import kedah_analytics.definitions\n"
        f"print(json.dumps(sorted(m for m in {list(LAZY)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=os.environ.copy(), check=True
    )
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"imported with the code location: {loaded}"


def test_the_probe_sees_a_library_that_is_loaded() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, kedah_analytics.trends.model as m; m._sklearn_version(); print('sklearn' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "True"
