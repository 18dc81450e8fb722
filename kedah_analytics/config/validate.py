"""The configuration, read once and checked as a whole before anything runs: every mistake at
once, naming the variable or the file, line and field, never retried.

:func:`load_configuration` builds the one :class:`Configuration` (typed settings from the
environment, and the tracking file) or raises :class:`ConfigurationError` listing every mistake.
The code location loads it when it is imported, the resources check it again when a run sets
them up (before any write), and ``kedah-analytics check-config`` prints the same report.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from kedah_analytics.config import settings
from kedah_analytics.config.quotas import polling_problems
from kedah_analytics.config.settings import Settings, SettingsError
from kedah_analytics.config.tracking import DEFAULT_TRACKING_FILE, TrackingConfig, load_tracking
from kedah_analytics.sources.twitter.query import build_search_queries


@dataclass(frozen=True)
class Problem:
    """One configuration mistake: where (a variable, or file:line) and what is wrong."""

    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


class ConfigurationError(ValueError):
    """The configuration is wrong; running would fail the same way every time."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(
            "Kedah Analytics configuration is wrong (nothing was run; fix it and reload):\n"
            + "\n".join(f"- {p}" for p in problems)
        )


def _tracking_path(env: Mapping[str, str]) -> Path | None:
    value = settings.TRACKING_FILE.read(env)
    return Path(value).expanduser() if value else None


def _yaml_line(path: Path, loc: tuple[Any, ...]) -> int | None:
    """The line (1-based) of the field at ``loc`` in the YAML file, where it is written there."""
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return None
    line = None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            found = next(((k, v) for k, v in node.value if getattr(k, "value", None) == str(part)), None)
            if found is None:
                break
            line, node = found[0].start_mark.line + 1, found[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def tracking_problems(env: Mapping[str, str]) -> list[Problem]:
    path = _tracking_path(env)
    shown = str(path) if path else str(DEFAULT_TRACKING_FILE)
    try:
        tracking = load_tracking(env)
    except FileNotFoundError:
        return [Problem(settings.TRACKING_FILE.name, f"file not found: {shown}")]
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        return [Problem(where, f"not valid YAML: {err.problem or err.context}")]
    except yaml.YAMLError as err:
        return [Problem(shown, f"not valid YAML: {err}")]
    except ValidationError as err:
        out = []
        for item in err.errors():
            loc = tuple(item["loc"])
            field = ".".join(str(p) for p in loc) or "(top level)"
            line = _yaml_line(path, loc) if path else None
            out.append(Problem(f"{shown}:{line}" if line else shown, f"field {field}: {item['msg']}"))
        return out
    except (ValueError, OSError) as err:
        return [Problem(shown, str(err))]
    return quota_problems(tracking, env)


def x_query_count(tracking: TrackingConfig) -> int:
    """How many X search queries the place terms and hashtags make (each polled separately)."""
    x = tracking.twitter
    terms = build_search_queries(
        tracking.place_terms,
        tracking.hashtags,
        exclude_retweets=x.exclude_retweets,
        max_length=x.max_query_length,
    )
    return len(terms)


def x_daily_post_reads(env: Mapping[str, str]) -> int:
    """The X budget in ``env``, or its default where the variable is wrong (reported on its own)."""
    try:
        return int(settings.X_DAILY_POST_READS.read(env) or "")
    except ValueError:
        return int(settings.X_DAILY_POST_READS.default or 0)


def quota_problems(tracking: TrackingConfig, env: Mapping[str, str]) -> list[Problem]:
    """Polling intervals, queries and page limits whose worst case a day passes a provider's quota,
    each named by the file and line of its first field, with the arithmetic."""
    try:
        queries = x_query_count(tracking)
    except ValueError as err:  # a term too long for one query
        return [Problem(str(_tracking_path(env) or DEFAULT_TRACKING_FILE), f"field place_terms: {err}")]
    out = []
    for field, what in polling_problems(tracking, queries, x_daily_post_reads(env)):
        if field.startswith("KEDAH_"):
            out.append(Problem(field, what))
            continue
        out.append(Problem(_field_location(env, tuple(field.split("."))), f"field {field}: {what}"))
    return out


def _field_location(env: Mapping[str, str], loc: tuple[str, ...]) -> str:
    """file:line where the field is written: the deployment's tracking file, else the defaults."""
    for path in (_tracking_path(env), DEFAULT_TRACKING_FILE):
        if path is not None and (line := _yaml_line(path, loc)) is not None:
            return f"{path}:{line}"
    return str(_tracking_path(env) or DEFAULT_TRACKING_FILE)


def source_problems(mode: str, env: Mapping[str, str] | None = None, tracking: bool = True) -> list[Problem]:
    """What is wrong with source mode ``mode`` and (with ``tracking``) the tracking file."""
    env = os.environ if env is None else env
    choices = settings.SOURCE_MODE.choices
    problems = (
        []
        if mode in choices
        else [Problem(settings.SOURCE_MODE.name, f"{mode!r} is not one of {', '.join(choices)}")]
    )
    return problems + (tracking_problems(env) if tracking else [])


def classifier_problems(name: str, env: Mapping[str, str] | None = None) -> list[Problem]:
    """What is wrong with classifier ``name`` (unknown, or Gemini without its key)."""
    env = os.environ if env is None else env
    choices = settings.CLASSIFIER.choices
    if name.lower() not in choices:
        return [Problem(settings.CLASSIFIER.name, f"{name!r} is not one of {', '.join(choices)}")]
    if name.lower() == "gemini" and not settings.GEMINI_API_KEY.is_set(env):
        return [
            Problem(settings.GEMINI_API_KEY.name, f"unset, and {settings.CLASSIFIER.name}=gemini needs it")
        ]
    return []


def settings_problems(env: Mapping[str, str] | None = None) -> tuple[Settings | None, list[Problem]]:
    """The typed settings (None where some are wrong) and every mistake in them, cross-checks
    included (Gemini without its key)."""
    try:
        read = Settings.from_env(env)
    except SettingsError as err:
        return None, [Problem(name, what) for name, what in err.problems]
    if problems := classifier_problems(read.classifier, env):
        return None, problems
    return read, []


def configuration_problems(env: Mapping[str, str] | None = None) -> list[Problem]:
    """Every mistake in the configuration (empty when it is fine)."""
    env = os.environ if env is None else env
    return settings_problems(env)[1] + tracking_problems(env)


@dataclass(frozen=True)
class Configuration:
    """Everything a process is configured with: the typed settings and what is tracked."""

    settings: Settings
    tracking: TrackingConfig


def load_configuration(env: Mapping[str, str] | None = None) -> Configuration:
    """The configuration in ``env`` (the process environment by default), or
    :class:`ConfigurationError` naming every mistake."""
    env = os.environ if env is None else env
    read, problems = settings_problems(env)
    problems += tracking_problems(env)
    if problems or read is None:
        raise ConfigurationError(problems)
    return Configuration(read, load_tracking(env))


@cache
def configuration() -> Configuration:
    """This process's configuration, read from its environment once."""
    return load_configuration()


def configuration_report(env: Mapping[str, str] | None = None) -> list[tuple[str, str]]:
    """(variable, what it is set to) for every setting; secrets show only whether they are set."""
    env = os.environ if env is None else env
    rows = []
    for setting in settings.ALL:
        if setting.secret:
            shown = "set" if setting.is_set(env) else "unset"
        elif setting.is_set(env):
            value = setting.read(env) or ""
            if setting is settings.PG_URL:
                from kedah_analytics.config.paths import redact_url

                value = redact_url(value)
            shown = value
        else:
            shown = f"unset (default {setting.default})" if setting.default else "unset"
        rows.append((setting.name, shown))
    return rows


def check_report(env: Mapping[str, str] | None = None) -> tuple[str, bool]:
    """What ``kedah-analytics check-config`` prints (every variable, then every problem) and
    whether the configuration is fine."""
    report = configuration_report(env)
    width = max(len(name) for name, _ in report)
    lines = [f"{name:<{width}}  {shown}" for name, shown in report] + [""]
    problems = configuration_problems(env)
    if not problems:
        return "\n".join([*lines, "configuration: OK"]), True
    lines.append(f"configuration: {len(problems)} problem(s)")
    lines += [f"- {problem}" for problem in problems]
    return "\n".join(lines), False
