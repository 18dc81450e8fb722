"""Screenshots of the Dagster UI in headless Chromium, for the README (docs/ui_*.png):

- ui_lineage.png: the global lineage opened with every group expanded (the URL `kedah-analytics
  dev` prints as "Lineage"); ui_lineage_collapsed.png: the same page as it opens without it;
- ui_check_partitions.png: a partitioned check's Partitions tab after a ranged backfill launched
  here through GraphQL, as the Materialize dialog does (``--backfill-days``; 0 skips it);
- ui_partition_metadata.png: one partition of a mart with its own figures and the run's totals.

Run against a running `kedah-analytics dev` (make run), whose webserver is --url:
    .venv/bin/python scripts/ui_screenshots.py [--url http://127.0.0.1:3000] [--backfill-days 7]
Needs apt ``chromium`` and ``chromium-driver`` (tests/browser.py).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser import chromium, chromium_missing  # noqa: E402
from dagster_ui import graphql  # noqa: E402

from kedah_analytics.definitions import lineage_path  # noqa: E402
from kedah_analytics.domain import KEDAH_TZ  # noqa: E402

LAUNCH = """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
  __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }"""
BACKFILL = """query($id: String!) { partitionBackfillOrError(backfillId: $id) {
  ... on PartitionBackfill { status } } }"""
CHECKS = """query($k: AssetKeyInput!) { assetNodeOrError(assetKey: $k) { ... on AssetNode {
  assetChecksOrError { ... on AssetChecks { checks { name } } } } } }"""


def backfill(url: str, asset: str, days: int) -> str:
    """A ranged backfill of ``asset``'s last ``days`` complete days; its final status."""
    yesterday = datetime.now(KEDAH_TZ).date() - timedelta(days=1)
    names = [str(yesterday - timedelta(days=n)) for n in range(days - 1, -1, -1)]
    answer = graphql(url, LAUNCH, {"p": {"assetSelection": [{"path": [asset]}], "partitionNames": names,
                                         "fromFailure": False}})["launchPartitionBackfill"]  # fmt: skip
    if answer["__typename"] != "LaunchBackfillSuccess":
        raise RuntimeError(answer)
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        status = graphql(url, BACKFILL, {"id": answer["backfillId"]})["partitionBackfillOrError"]["status"]
        if status not in ("REQUESTED", "CANCELING", "FAILING"):
            return f"{names[0]}..{names[-1]} {status}"
        time.sleep(3)
    raise TimeoutError("the backfill did not finish within 15 minutes")


def shoot(driver, url: str, path: Path, settle_s: float, click: str | None = None, zoom_out: int = 0) -> None:  # type: ignore[no-untyped-def]
    """``url`` as it draws; then ``click`` (a tab's text) or ``zoom_out`` (the graph's button)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url)
    time.sleep(settle_s)  # the page's queries and the graph's layout
    if zoom_out:  # the whole graph in view: the UI opens it at a zoom where node details show
        icon = driver.find_element(By.CSS_SELECTOR, '[aria-label="zoom_out"]')
        for _ in range(zoom_out):
            driver.execute_script(
                "arguments[0].click()", icon.find_element(By.XPATH, "./ancestor::button[1]")
            )
            time.sleep(1)
    if click:
        WebDriverWait(driver, 60).until(
            lambda d: d.find_elements(By.XPATH, f"//*[normalize-space(text())='{click}']")
        )[-1].click()
        time.sleep(settle_s)
    driver.save_screenshot(str(path))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {url}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:3000", help="the Dagster webserver")
    parser.add_argument("--out", type=Path, default=ROOT / "docs")
    parser.add_argument("--check-asset", default="place_daily_metrics")
    parser.add_argument("--metadata-asset", default="place_rankings")
    parser.add_argument("--backfill-days", type=int, default=7)
    parser.add_argument("--settle-s", type=float, default=8)
    args = parser.parse_args()
    if reason := chromium_missing():
        print(reason, file=sys.stderr)
        return 1
    url = args.url.rstrip("/")
    if args.backfill_days > 0:
        print(f"backfill of {args.check_asset}: {backfill(url, args.check_asset, args.backfill_days)}")
    node = graphql(url, CHECKS, {"k": {"path": [args.check_asset]}})["assetNodeOrError"]
    check = node["assetChecksOrError"]["checks"][0]["name"]
    yesterday = datetime.now(KEDAH_TZ).date() - timedelta(days=1)
    with chromium(1800, 1100) as driver:
        # Collapsed first: the UI keeps groups a person opened in localStorage (not those of a URL).
        shoot(driver, f"{url}/asset-groups", args.out / "ui_lineage_collapsed.png", args.settle_s)
        driver.set_window_size(2000, 2000)
        shoot(driver, f"{url}{lineage_path()}", args.out / "ui_lineage.png", args.settle_s, zoom_out=5)
        driver.set_window_size(1800, 1100)
        shoot(driver, f"{url}/assets/{args.check_asset}?view=checks&checkDetail={check}",
              args.out / "ui_check_partitions.png", args.settle_s, click="Partitions")  # fmt: skip
        shoot(driver, f"{url}/assets/{args.metadata_asset}?view=partitions&partition={yesterday}",
              args.out / "ui_partition_metadata.png", args.settle_s)  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
