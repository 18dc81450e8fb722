"""Every ``KEDAH_*`` environment variable the project reads: its name, meaning, default and
allowed values, and :class:`Settings`, the one typed object they are read into.

This is the one place that names them and states their defaults. A process reads the environment
once (:func:`kedah_analytics.config.validate.load_configuration`), validated as a whole, every
mistake named by its variable; code gets typed values from :class:`Settings` and names a variable
in a message through its :class:`Setting` (``settings.X_BEARER_TOKEN.name``). The README's
configuration tables list exactly these (a test keeps the two in step). A secret's value is never
shown: it is a ``SecretStr`` in :class:`Settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
)


@dataclass(frozen=True)
class Setting:
    """One environment variable."""

    name: str
    meaning: str
    group: str
    default: str | None = None
    secret: bool = False
    choices: tuple[str, ...] = ()

    def read(self, env: Mapping[str, str] | None = None) -> str | None:
        """The value in ``env`` (the process environment by default), stripped; empty counts as
        unset and gives the default."""
        value = (os.environ if env is None else env).get(self.name, "").strip()
        return value or self.default

    def is_set(self, env: Mapping[str, str] | None = None) -> bool:
        return bool((os.environ if env is None else env).get(self.name, "").strip())


CORE = "core"
SOURCES = "sources"

# --- where things run -----------------------------------------------------------------------------
PG_URL = Setting(
    "KEDAH_PG_URL",
    "PostgreSQL for the warehouse (schema `kedah`) and Dagster's run, event and schedule storage. "
    "Unset: the embedded server in `.pgdata/`",
    CORE,
)
HOME = Setting("KEDAH_HOME", "where `.pgdata/` and `.dagster/` live (default: the checkout)", CORE)
SOURCE_MODE = Setting(
    "KEDAH_SOURCE_MODE",
    "`auto` (default: real where credentials are set, demo elsewhere) or `demo`",
    CORE,
    default="auto",
    choices=("auto", "demo"),
)
ALERT_WEBHOOK = Setting(
    "KEDAH_ALERT_WEBHOOK",
    'URL that receives failed-run alerts and the marts\' alerts (Slack-style `{"text": ...}`)',
    CORE,
)
CLASSIFIER = Setting(
    "KEDAH_CLASSIFIER",
    "`offline` (default), `gemini`, `lexicon` or `vader` (see Classification)",
    CORE,
    default="offline",
    choices=("offline", "lexicon", "vader", "gemini"),
)
GEMINI_API_KEY = Setting(
    "KEDAH_GEMINI_API_KEY", "Gemini API key for `KEDAH_CLASSIFIER=gemini`", CORE, secret=True
)
GEMINI_MODEL = Setting(
    "KEDAH_GEMINI_MODEL",
    "the Gemini model (default `gemini-3.5-flash-lite`)",
    CORE,
    default="gemini-3.5-flash-lite",
)
START_DATE = Setting(
    "KEDAH_START_DATE",
    "the first Kedah date the partitions cover (default `2026-06-01`); X and Instagram cannot give posts "
    "older than 7 days and 24 hours, YouTube, Facebook Pages and Google Trends can: set it earlier to "
    'backfill those. Earlier days are not partitions at all, so "missing" in the UI means missing',
    CORE,
    default="2026-06-01",
)
EXECUTOR = Setting(
    "KEDAH_EXECUTOR",
    "where a run's steps execute: `in_process` (default: one process per run, the cheapest on one "
    "machine), `multiprocess` (a process per step) or `celery` (dagster-celery workers, see Scaling out)",
    CORE,
    default="in_process",
    choices=("in_process", "multiprocess", "celery"),
)
CELERY_BROKER = Setting(
    "KEDAH_CELERY_BROKER",
    "the Celery broker for `KEDAH_EXECUTOR=celery` (default: RabbitMQ on 127.0.0.1)",
    CORE,
    default="pyamqp://guest:guest@127.0.0.1:5672//",
    secret=True,
)
CELERY_BACKEND = Setting(
    "KEDAH_CELERY_BACKEND",
    "the Celery result backend (default `rpc://`, the broker again)",
    CORE,
    default="rpc://",
)
CELERY_QUEUE = Setting(
    "KEDAH_CELERY_QUEUE",
    "the Celery queue steps go to and workers read (default `dagster`)",
    CORE,
    default="dagster",
)
CODE_SERVER_HOST = Setting(
    "KEDAH_CODE_SERVER_HOST",
    "where `deploy/workspace.grpc.yaml` finds the code-location gRPC server",
    CORE,
    default="127.0.0.1",
)
CODE_SERVER_PORT = Setting(
    "KEDAH_CODE_SERVER_PORT",
    "the code-location gRPC server's port (`kedah-analytics serve`)",
    CORE,
    default="4266",
)
HOST = Setting("KEDAH_HOST", "the address `make run` serves the UI on", CORE, default="127.0.0.1")
PORT = Setting(
    "KEDAH_PORT", "the port `make run` serves the UI on (also `make run PORT=3001`)", CORE, default="3000"
)
# --- growth (README: Growth and retention) ---
PAYLOAD_RETENTION_DAYS = Setting(
    "KEDAH_PAYLOAD_RETENTION_DAYS",
    "days a raw post keeps its provider payload JSON (default 365; `0` keeps it for good): the daily "
    "`prune_raw_payloads` job empties older payloads, the posts and all their columns stay",
    CORE,
    default="365",
)
# --- the board's window: the HTTP API and the dashboard ---------------------------------------------
API_PORT = Setting("KEDAH_API_PORT", "the port `make run` serves the HTTP API on", CORE, default="8000")
DASHBOARD_PORT = Setting(
    "KEDAH_DASHBOARD_PORT", "the port `make run` serves the dashboard on", CORE, default="8501"
)
API_TOKEN = Setting(
    "KEDAH_API_TOKEN",
    "the bearer token the HTTP API requires (`Authorization: Bearer ...`) when set; the API refuses to "
    "listen on any address but 127.0.0.1/localhost without it",
    CORE,
    secret=True,
)
API_CORS_ORIGINS = Setting(
    "KEDAH_API_CORS_ORIGINS",
    "comma-separated origins a browser may call the API from (e.g. `https://visitkedah.example`); unset: "
    "none, same origin only",
    CORE,
)

# --- sources ----------------------------------------------------------------------------------------
X_BEARER_TOKEN = Setting(
    "KEDAH_X_BEARER_TOKEN",
    "X posts (recent search, last 7 days; billed per post read, so polling uses `since_id`)",
    SOURCES,
    secret=True,
)
X_DAILY_POST_READS = Setting(
    "KEDAH_X_DAILY_POST_READS",
    "posts X may bill per UTC day (default 2000, about $10 at $0.005 a post read), counted in PostgreSQL "
    "across runs: a poll that reaches it stops reading, stores what it has and says so in the metadata",
    SOURCES,
    default="2000",
)
META_ACCESS_TOKEN = Setting(
    "KEDAH_META_ACCESS_TOKEN",
    "long-lived Meta token: Instagram hashtag posts (with `KEDAH_IG_USER_ID`), Facebook Page posts and "
    "Page insights (with `facebook.page_ids` in the tracking file), Instagram account insights",
    SOURCES,
    secret=True,
)
IG_USER_ID = Setting(
    "KEDAH_IG_USER_ID",
    "the Instagram professional account used for hashtag search and, by default, insights",
    SOURCES,
)
META_APP_SECRET = Setting(
    "KEDAH_META_APP_SECRET", "optional: signs Graph API calls with `appsecret_proof`", SOURCES, secret=True
)
YOUTUBE_API_KEY = Setting("KEDAH_YOUTUBE_API_KEY", "YouTube videos", SOURCES, secret=True)
YOUTUBE_OAUTH_TOKEN_FILE = Setting(
    "KEDAH_YOUTUBE_OAUTH_TOKEN_FILE",
    "path (outside the repo) to the channel owner's authorized-user JSON: YouTube Analytics daily "
    "channel metrics",
    SOURCES,
)
YOUTUBE_OAUTH_CLIENT_ID = Setting(
    "KEDAH_YOUTUBE_OAUTH_CLIENT_ID",
    "with the client secret and refresh token, instead of the token file: YouTube Analytics",
    SOURCES,
)
YOUTUBE_OAUTH_CLIENT_SECRET = Setting(
    "KEDAH_YOUTUBE_OAUTH_CLIENT_SECRET", "see `KEDAH_YOUTUBE_OAUTH_CLIENT_ID`", SOURCES, secret=True
)
YOUTUBE_OAUTH_REFRESH_TOKEN = Setting(
    "KEDAH_YOUTUBE_OAUTH_REFRESH_TOKEN", "see `KEDAH_YOUTUBE_OAUTH_CLIENT_ID`", SOURCES, secret=True
)
GOOGLE_TRENDS = Setting(
    "KEDAH_GOOGLE_TRENDS",
    "`1`: Google Trends interest for Kedah (geo `MY-02`); no credential, off by default so demo mode "
    "stays offline",
    SOURCES,
)
DEMO_POSTS_PER_DAY = Setting(
    "KEDAH_DEMO_POSTS_PER_DAY",
    "demo posts per weekday across the four platforms (default 133; weekends a third more), for "
    "benchmarks at a real volume (`bench/bench_year.py`)",
    SOURCES,
)
TRACKING_FILE = Setting(
    "KEDAH_TRACKING_FILE",
    "your own tracking YAML, deep-merged over `kedah_analytics/data/tracking.yaml`",
    SOURCES,
)

YOUTUBE_OAUTH = (YOUTUBE_OAUTH_TOKEN_FILE, YOUTUBE_OAUTH_CLIENT_ID, YOUTUBE_OAUTH_CLIENT_SECRET,
                 YOUTUBE_OAUTH_REFRESH_TOKEN)  # fmt: skip

ALL: tuple[Setting, ...] = tuple(v for v in list(globals().values()) if isinstance(v, Setting))


def by_group(group: str) -> tuple[Setting, ...]:
    return tuple(s for s in ALL if s.group == group)


def markdown_table(group: str) -> str:
    """The README table of one group of variables."""
    lines = ["| variable | what it does |", "|---|---|"]
    lines += [f"| `{s.name}` | {s.meaning} |" for s in by_group(group)]
    return "\n".join(lines)


# --- the typed object -------------------------------------------------------------------------------


def _port(value: int) -> int:
    if not 0 < value < 65536:
        raise ValueError("is not a port (1 to 65535)")
    return value


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("is not an http(s) URL")
    return value


def _pg_url(value: str | None) -> str | None:
    if value is not None:
        from psycopg.conninfo import conninfo_to_dict

        try:
            conninfo_to_dict(value)
        except Exception as err:  # psycopg.ProgrammingError; its message never holds the password
            raise ValueError(f"is not a PostgreSQL URL ({type(err).__name__})") from None
    return value


def _one_of(setting: Setting) -> BeforeValidator:
    """The value, lower-cased with ``-`` as ``_``, if it is one of ``setting.choices``."""

    def check(value: Any) -> Any:
        name = value.lower().replace("-", "_") if isinstance(value, str) else value
        if name not in setting.choices:
            raise ValueError(f"is not one of {', '.join(setting.choices)}")
        return name

    return BeforeValidator(check)


def _flag(value: Any) -> Any:
    if isinstance(value, str):
        lowered = value.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError("is not 1 or 0 (true/false, yes/no, on/off)")
    return value


Port = Annotated[int, AfterValidator(_port)]


class Settings(BaseModel):
    """Every ``KEDAH_*`` variable, typed and checked. Build it with :meth:`from_env`; each field's
    alias is its variable, and its default is the :class:`Setting`'s."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    pg_url: Annotated[str | None, AfterValidator(_pg_url)] = Field(None, alias=PG_URL.name)
    home: Path | None = Field(None, alias=HOME.name)
    source_mode: Annotated[str, _one_of(SOURCE_MODE)] = Field(alias=SOURCE_MODE.name)
    alert_webhook: Annotated[str | None, AfterValidator(_http_url)] = Field(None, alias=ALERT_WEBHOOK.name)
    classifier: Annotated[str, _one_of(CLASSIFIER)] = Field(alias=CLASSIFIER.name)
    gemini_api_key: SecretStr | None = Field(None, alias=GEMINI_API_KEY.name)
    gemini_model: str = Field(alias=GEMINI_MODEL.name)
    start_date: date = Field(alias=START_DATE.name)
    executor: Annotated[str, _one_of(EXECUTOR)] = Field(alias=EXECUTOR.name)
    celery_broker: SecretStr = Field(alias=CELERY_BROKER.name)
    celery_backend: str = Field(alias=CELERY_BACKEND.name)
    celery_queue: str = Field(alias=CELERY_QUEUE.name)
    code_server_host: str = Field(alias=CODE_SERVER_HOST.name)
    code_server_port: Port = Field(alias=CODE_SERVER_PORT.name)
    host: str = Field(alias=HOST.name)
    port: Port = Field(alias=PORT.name)
    payload_retention_days: int = Field(ge=0, alias=PAYLOAD_RETENTION_DAYS.name)
    api_port: Port = Field(alias=API_PORT.name)
    dashboard_port: Port = Field(alias=DASHBOARD_PORT.name)
    api_token: SecretStr | None = Field(None, alias=API_TOKEN.name)
    api_cors_origins: str | None = Field(None, alias=API_CORS_ORIGINS.name)
    x_bearer_token: SecretStr | None = Field(None, alias=X_BEARER_TOKEN.name)
    x_daily_post_reads: int = Field(ge=0, alias=X_DAILY_POST_READS.name)
    meta_access_token: SecretStr | None = Field(None, alias=META_ACCESS_TOKEN.name)
    ig_user_id: str | None = Field(None, alias=IG_USER_ID.name)
    meta_app_secret: SecretStr | None = Field(None, alias=META_APP_SECRET.name)
    youtube_api_key: SecretStr | None = Field(None, alias=YOUTUBE_API_KEY.name)
    youtube_oauth_token_file: Path | None = Field(None, alias=YOUTUBE_OAUTH_TOKEN_FILE.name)
    youtube_oauth_client_id: str | None = Field(None, alias=YOUTUBE_OAUTH_CLIENT_ID.name)
    youtube_oauth_client_secret: SecretStr | None = Field(None, alias=YOUTUBE_OAUTH_CLIENT_SECRET.name)
    youtube_oauth_refresh_token: SecretStr | None = Field(None, alias=YOUTUBE_OAUTH_REFRESH_TOKEN.name)
    google_trends: Annotated[bool, BeforeValidator(_flag)] = Field(False, alias=GOOGLE_TRENDS.name)
    tracking_file: Path | None = Field(None, alias=TRACKING_FILE.name)
    demo_posts_per_day: float | None = Field(None, gt=0, alias=DEMO_POSTS_PER_DAY.name)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """The settings in ``env`` (the process environment by default); empty counts as unset.
        Raises :class:`SettingsError` naming every variable that is wrong."""
        values = {s.name: s.read(env) for s in ALL}
        try:
            return cls.model_validate({k: v for k, v in values.items() if v is not None})
        except ValidationError as err:
            raise SettingsError(_problems(err, values)) from None


_BY_NAME = {s.name: s for s in ALL}


def _problems(err: ValidationError, values: Mapping[str, str | None]) -> list[tuple[str, str]]:
    out = []
    for item in err.errors(include_url=False, include_input=False):
        name = str(item["loc"][0]) if item["loc"] else "(settings)"
        setting = _BY_NAME.get(name)
        message = str(item["msg"]).removeprefix("Value error, ").replace("Input should be", "should be")
        if setting is not None and not setting.secret:
            message = f"{values.get(name)!r} {message}"
        out.append((name, message))
    return out


class SettingsError(ValueError):
    """Some ``KEDAH_*`` variables are wrong: ``problems`` holds (variable, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__("; ".join(f"{name}: {what}" for name, what in problems))
