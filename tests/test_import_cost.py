"""The code location loads without the heavy libraries that only some steps need: every run
worker, UI reload, sensor tick and CLI command imports it (bench/bench_import.py times it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# Loaded by the step that needs them (training, scoring, a real source, a webhook), never at
# import: pandas and numpy by the asset bodies (inputs are annotated with assets.common.frames'
# DataFrame), the providers' client libraries by each provider's factory.
LAZY = (
    "sklearn",
    "scipy",
    "joblib",
    "matplotlib",
    "google.genai",
    "pandas",
    "numpy",
    "pyarrow",
    "tweepy",
    "pytrends",
    "googleapiclient",
    "httplib2",
    "httpx",
    "requests",
    "urllib3",
)


def test_importing_the_code_location_leaves_heavy_libraries_unloaded() -> None:
    probe = (
        "import json, sys\n"
        "import kedah_analytics.definitions\n"
        # As the code server does: the repository, its jobs and asset graph built.
        "kedah_analytics.definitions.defs.get_repository_def().get_all_jobs()\n"
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


def test_an_asset_input_read_whole_is_typed_as_a_data_frame() -> None:
    """The stand-in annotation keeps what Dagster and the IO manager saw with ``pd.DataFrame``: a
    type named DataFrame whose check passes a DataFrame and fails anything else; a DailyRows input
    keeps its own type (the IO manager reads it a day at a time)."""
    import dagster as dg
    import pandas as pd

    from kedah_analytics.definitions import defs
    from kedah_analytics.warehouse.read import DailyRows

    job = defs.resolve_implicit_global_asset_job_def()
    inputs = {i.name: i.dagster_type for i in job.graph.node_named("classified_posts").definition.input_defs}
    assert inputs["places"].display_name == "DataFrame"
    assert inputs["raw_posts"].typing_type is DailyRows
    assert dg.check_dagster_type(inputs["places"], pd.DataFrame()).success
    assert not dg.check_dagster_type(inputs["places"], [1, 2]).success
