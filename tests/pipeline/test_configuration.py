"""Configuration mistakes fail before anything runs, once, naming the variable or file and line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import psycopg
import pytest
from demo_resources import demo_resources

from kedah_analytics.config import validate
from kedah_analytics.definitions import defs
from resources import (
    PostSources,
    SentimentResource,
)

ROOT = Path(__file__).resolve().parents[2]


def _broken_yaml(tmp_path: Path) -> Path:
    path = tmp_path / "tracking.yaml"
    path.write_text("twitter:\n  queries:\n    - langkawi\n  bad: [unclosed\n", encoding="utf-8")
    return path


def _bad_field(tmp_path: Path) -> Path:
    path = tmp_path / "tracking.yaml"
    path.write_text("instagram:\n  hashtags:\n    - langkawi\n    - 'not a tag!'\n", encoding="utf-8")
    return path


BAD = {
    "unknown classifier": ({"KEDAH_CLASSIFIER": "gemni"}, "KEDAH_CLASSIFIER: 'gemni' is not one of"),
    "unknown source mode": ({"KEDAH_SOURCE_MODE": "real"}, "KEDAH_SOURCE_MODE: 'real' is not one of"),
    "gemini without a key": ({"KEDAH_CLASSIFIER": "gemini"}, "KEDAH_GEMINI_API_KEY: unset"),
    "missing tracking file": ({"KEDAH_TRACKING_FILE": "/nonexistent/tracking.yaml"}, "file not found"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_each_mistake_is_named(case):
    env, expected = BAD[case]
    problems = [str(p) for p in validate.configuration_problems({**_clean_env(), **env})]
    assert any(expected in p for p in problems), problems


def test_a_yaml_error_names_the_file_and_line(tmp_path):
    path = _broken_yaml(tmp_path)
    problems = [str(p) for p in validate.configuration_problems({"KEDAH_TRACKING_FILE": str(path)})]
    assert len(problems) == 1 and problems[0].startswith(f"{path}:5:") and "not valid YAML" in problems[0]


def test_a_wrong_field_names_the_file_line_and_field(tmp_path):
    path = _bad_field(tmp_path)
    problems = [str(p) for p in validate.configuration_problems({"KEDAH_TRACKING_FILE": str(path)})]
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}:2: field instagram.hashtags: "), problems


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("KEDAH_") or k == "KEDAH_PG_URL"}


@pytest.mark.parametrize("case", sorted(BAD))
def test_the_code_location_refuses_to_load_with_a_mistake(case):
    """What `dagster dev` and every run worker see: the load fails, naming the mistake."""
    env, expected = BAD[case]
    done = subprocess.run(
        [sys.executable, "-c", "import kedah_analytics.definitions"],
        cwd=ROOT, env={**_clean_env(), **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode != 0
    assert "ConfigurationError" in done.stderr and expected in done.stderr


def test_check_config_prints_what_is_configured_and_what_is_wrong(tmp_path):
    env = {**_clean_env(), "KEDAH_CLASSIFIER": "gemni", "KEDAH_TRACKING_FILE": str(_broken_yaml(tmp_path))}
    done = subprocess.run(
        [sys.executable, "-m", "kedah_analytics.cli", "check-config"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "KEDAH_SOURCE_MODE" in done.stdout and "unset (default auto)" in done.stdout
    assert "configuration: 2 problem(s)" in done.stdout
    assert "- KEDAH_CLASSIFIER: 'gemni'" in done.stdout


def test_a_run_with_a_broken_tracking_file_fails_once_before_writing(warehouse_url, tmp_path, monkeypatch):
    monkeypatch.setenv("KEDAH_TRACKING_FILE", str(_broken_yaml(tmp_path)))
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            list(defs.assets),
            selection=["raw_posts"],
            partition_key="2026-11-20|twitter",
            resources=demo_resources(warehouse_url, post_sources=PostSources(mode="auto")),
            instance=instance,
            raise_on_error=False,
        )
        assert not result.success
        events = instance.all_logs(result.run_id)
    kinds = [e.dagster_event.event_type_value for e in events if e.dagster_event]
    assert "STEP_UP_FOR_RETRY" not in kinds and "STEP_RESTARTED" not in kinds
    errors = " ".join(str(e.dagster_event.event_specific_data) for e in events if e.dagster_event)
    assert "tracking.yaml:5:" in errors
    with psycopg.connect(warehouse_url) as conn:
        assert conn.execute("SELECT count(*) FROM kedah.raw_posts").fetchone() == (0,)


def test_an_unknown_classifier_fails_the_run_when_its_resource_is_set_up(warehouse_url):
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize(
            list(defs.assets),
            selection=["classified_posts"],
            partition_key="2026-11-20|twitter",
            resources=demo_resources(warehouse_url, sentiment=SentimentResource(classifier="gemni")),
            instance=instance,
            raise_on_error=False,
        )
        assert not result.success
        kinds = [
            e.dagster_event.event_type_value for e in instance.all_logs(result.run_id) if e.dagster_event
        ]
    assert "STEP_UP_FOR_RETRY" not in kinds
