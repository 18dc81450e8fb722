"""Screenshots of the dashboard's pages, taken in headless Chromium, for the README (docs/dashboard_*.png).

Run against a warehouse with data (``make run`` fills the embedded one; or KEDAH_PG_URL):
    .venv/bin/python scripts/dashboard_screenshots.py [--period week] [--city "All Kedah"]
Needs apt ``chromium`` and ``chromium-driver``; uses the browser test's helpers (tests/browser.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser import chromium, chromium_missing, dashboard, open_page  # noqa: E402

from kedah_analytics.config.paths import resolve_pg_url  # noqa: E402
from kedah_analytics.dashboard.filters import PAGES  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--period", default="week")
    parser.add_argument("--city", default="All Kedah")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    if reason := chromium_missing():
        print(reason, file=sys.stderr)
        return 1
    with dashboard(resolve_pg_url()) as address, chromium(1400, 1100) as driver:
        for page in PAGES:
            city = "Langkawi" if page == "places" else args.city
            header = open_page(driver, address, page=page, city=city, period=args.period)
            time.sleep(2)  # charts and the map draw after the page has run
            path = args.out / f"dashboard_{page}.png"
            driver.save_screenshot(str(path))
            print(f"wrote {path.relative_to(ROOT)}: {header}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
