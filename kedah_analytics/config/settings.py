"""Every ``KEDAH_*`` environment variable the project reads: its name, meaning and default.

This is the one place that names them. Code refers to a variable through its :class:`Setting`
(``settings.X_BEARER_TOKEN.name`` in a message, ``settings.SOURCE_MODE.read(env)`` for its value),
and the README's configuration tables list exactly these (a test keeps the two in step).
Credentials are read where a client is built and never logged; a secret's value is never shown.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Setting:
    """One environment variable."""

    name: str
    meaning: str
    group: str
    default: str | None = None
    secret: bool = False

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
)
GEMINI_API_KEY = Setting(
    "KEDAH_GEMINI_API_KEY", "Gemini API key for `KEDAH_CLASSIFIER=gemini`", CORE, secret=True
)
GEMINI_MODEL = Setting("KEDAH_GEMINI_MODEL", "the Gemini model (default `gemini-3.5-flash-lite`)", CORE)
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
