"""The embedded PostgreSQL a fresh machine runs on, from the ``pgserver`` wheel (PostgreSQL 16).

The server listens on a Unix socket inside its data folder only and keeps running after the
process that started it exits (``cleanup_mode=None``), so the Dagster webserver, daemon and run
workers all share it. ``stop`` shuts it down cleanly.
"""

from __future__ import annotations

import logging
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)


def start(pgdata: Path) -> str:
    """Start (or attach to) the embedded server in ``pgdata`` and return its URL."""
    import pgserver

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    return server.get_uri()


def status(pgdata: Path) -> str | None:
    """The URL of the embedded server in ``pgdata`` if it is running, else None."""
    from pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "PG_VERSION").exists() else None
    if info is None or not info.is_running():
        return None
    return info.get_uri()


def stop(pgdata: Path) -> bool:
    """Stop the embedded server in ``pgdata``. Returns False if it was not running."""
    # pg_ctl is generated at import time from the bundled binaries, so no stub can name it.
    from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

    if status(pgdata) is None:
        return False
    user = "pgserver" if _running_as_root() else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError as err:  # already stopping, or stale pid file
        log.warning("pg_ctl stop failed: %s", err)
        return status(pgdata) is None
    return True


def _running_as_root() -> bool:
    import os

    return hasattr(os, "geteuid") and os.geteuid() == 0
