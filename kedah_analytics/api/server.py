"""Starting the API: 127.0.0.1 by default; any other address only with KEDAH_API_TOKEN set."""

from __future__ import annotations

import ipaddress

from kedah_analytics.config import settings
from kedah_analytics.config.paths import resolve_pg_url

LOOPBACK_NAMES = ("localhost",)


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token: the API would be open to the network."""
    if not is_loopback(host) and not token:
        raise ValueError(
            f"refusing to serve the API on {host} without {settings.API_TOKEN.name}: set it (clients then "
            "send 'Authorization: Bearer <token>') or bind 127.0.0.1"
        )


def cors_origins(raw: str | None) -> tuple[str, ...]:
    return tuple(o.strip() for o in (raw or "").split(",") if o.strip())


def serve(host: str, port: int) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    from kedah_analytics.api.app import create_app

    token = settings.API_TOKEN.read()
    check_bind(host, token)
    app = create_app(
        resolve_pg_url(), token=token, cors_origins=cors_origins(settings.API_CORS_ORIGINS.read())
    )
    uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
