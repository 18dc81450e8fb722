"""Settings are read once into one typed object, checked as a whole, every mistake named."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from kedah_analytics.config import settings
from kedah_analytics.config.settings import Settings, SettingsError
from kedah_analytics.config.validate import ConfigurationError, configuration_problems, load_configuration

ROOT = Path(__file__).resolve().parents[1]


def test_every_variable_is_one_field_of_the_typed_object_and_back():
    aliases = {field.alias for field in Settings.model_fields.values()}
    assert aliases == {s.name for s in settings.ALL}


def test_defaults_come_from_the_registry():
    read = Settings.from_env({})
    assert read.start_date == date.fromisoformat(settings.START_DATE.default or "")
    assert read.port == int(settings.PORT.default or 0)
    assert read.classifier == settings.CLASSIFIER.default
    assert read.executor == settings.EXECUTOR.default
    assert read.x_daily_post_reads == int(settings.X_DAILY_POST_READS.default or 0)
    assert read.google_trends is False


def test_every_wrong_variable_is_named_at_once():
    env = {
        "KEDAH_START_DATE": "2026-13-01",
        "KEDAH_PORT": "abc",
        "KEDAH_EXECUTOR": "dask",
        "KEDAH_X_DAILY_POST_READS": "-1",
        "KEDAH_GOOGLE_TRENDS": "maybe",
        "KEDAH_CODE_SERVER_PORT": "70000",
        "KEDAH_ALERT_WEBHOOK": "ftp://hooks",
        "KEDAH_PG_URL": "postgresql://host/db?no_such_option=1",
    }
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(env)
    named = {name for name, _ in caught.value.problems}
    assert named == set(env)


def test_a_secret_value_never_shows_in_an_error_or_repr():
    token = "sk-THIS-MUST-NOT-LEAK"
    read = Settings.from_env({"KEDAH_X_BEARER_TOKEN": token})
    assert (
        token not in repr(read)
        and read.x_bearer_token is not None
        and read.x_bearer_token.get_secret_value() == token
    )
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"KEDAH_CELERY_BROKER": token, "KEDAH_PORT": "x"})
    assert token not in str(caught.value)


def test_choices_are_case_insensitive_and_checked_across_fields():
    assert Settings.from_env({"KEDAH_CLASSIFIER": "Lexicon"}).classifier == "lexicon"
    problems = [str(p) for p in configuration_problems({"KEDAH_CLASSIFIER": "GEMINI"})]
    assert problems == ["KEDAH_GEMINI_API_KEY: unset, and KEDAH_CLASSIFIER=gemini needs it"]


def test_the_configuration_joins_settings_and_tracking_or_names_every_mistake(tmp_path):
    loaded = load_configuration({})
    assert loaded.settings.source_mode == "auto" and loaded.tracking.polling is not None
    with pytest.raises(ConfigurationError) as caught:
        load_configuration(
            {"KEDAH_START_DATE": "soon", "KEDAH_TRACKING_FILE": str(tmp_path / "missing.yaml")}
        )
    assert {p.where for p in caught.value.problems} == {"KEDAH_START_DATE", "KEDAH_TRACKING_FILE"}


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEDAH_") or k == "KEDAH_PG_URL"}
    return subprocess.run(
        [sys.executable, "-m", "kedah_analytics.cli", *args],
        cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def test_check_config_reports_a_bad_port_and_start_date_instead_of_crashing():
    done = _cli("check-config", KEDAH_PORT="abc", KEDAH_START_DATE="2026-13-01")
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert "- KEDAH_PORT: 'abc' should be a valid integer" in done.stdout
    assert "- KEDAH_START_DATE: '2026-13-01' should be a valid date" in done.stdout


def test_seed_with_a_bad_start_date_fails_with_the_projects_message():
    done = _cli("seed", "--days", "1", KEDAH_START_DATE="2026-13-01")
    assert done.returncode != 0
    assert "configuration is wrong" in done.stderr and "- KEDAH_START_DATE: " in done.stderr
    assert "Traceback" not in done.stderr
    assert "month must be in 1..12" not in done.stderr
