"""Where the project keeps its state and which database it talks to.

``KEDAH_PG_URL`` names a PostgreSQL server. Where it is unset, :func:`resolve_pg_url` starts the
embedded PostgreSQL (``kedah_analytics.embedded_pg``) whose data lives in ``$KEDAH_HOME/.pgdata``.
"""

from __future__ import annotations

from pathlib import Path

from kedah_analytics.config.settings import HOME, PG_URL

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
DATA_DIR = _PACKAGE_DIR / "data"


def project_home() -> Path:
    """The folder holding local state (embedded database, Dagster storage).

    ``KEDAH_HOME`` wins; otherwise the checkout the package is installed from in editable mode;
    otherwise ``~/.kedah_analytics``.
    """
    if home := HOME.read():
        return Path(home).expanduser().resolve()
    checkout = _PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").exists():
        return checkout
    return Path.home() / ".kedah_analytics"


def embedded_pgdata() -> Path:
    return project_home() / ".pgdata"


def resolve_pg_url(*, start_embedded: bool = True) -> str:
    """The PostgreSQL URL in use: ``KEDAH_PG_URL``, else the embedded server (started if needed)."""
    if url := PG_URL.read():
        return url
    if not start_embedded:
        raise RuntimeError(f"{PG_URL.name} is unset and the embedded PostgreSQL was not requested")
    from kedah_analytics import embedded_pg

    return embedded_pg.start(embedded_pgdata())


def redact_url(url: str) -> str:
    """The URL with any password replaced, for logs and the CLI."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts)
