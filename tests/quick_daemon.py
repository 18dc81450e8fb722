"""``dagster-daemon`` for the daemon tests, with the loops Dagster does not let dagster.yaml
shorten taken down from 30 s to ``INTERVAL_S``: the backfill daemon's (which launches the runs of
a UI backfill and of the backfills automation emits) and the asset daemon's pre-sensor loop. The
tests then wait for what the daemon decides, not for its clock; everything else is the shipped
daemon, on the project's dagster.yaml.

Run as ``python tests/quick_daemon.py run -w WORKSPACE``, as ``dagster-daemon run -w WORKSPACE``.
"""

from __future__ import annotations

import sys

from dagster._daemon import controller
from dagster._daemon.cli import main

INTERVAL_S = 5

# Read when each loop starts (a function-level import in dagster/_daemon/backfill.py), so setting
# it before the CLI starts its threads is enough.
controller.DEFAULT_DAEMON_INTERVAL_SECONDS = INTERVAL_S

if __name__ == "__main__":
    sys.exit(main())
