"""A real dashboard in a real headless Chromium (apt ``chromium`` and ``chromium-driver``, selenium),
shared by the browser test and ``scripts/dashboard_screenshots.py``."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

from kedah_analytics import serving

ROOT = Path(__file__).resolve().parents[1]


def chromium_missing() -> str | None:
    """Why no browser test can run here, or None."""
    if not shutil.which("chromium") and not shutil.which("chromium-browser"):
        return "Chromium is not installed (apt-get install chromium chromium-driver)"
    if not shutil.which("chromedriver"):
        return "chromedriver is not installed (apt-get install chromium-driver)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def dashboard(pg_url: str) -> Iterator[str]:
    """``kedah-analytics dashboard``'s Streamlit server on a free port, over ``pg_url``; yields its address."""
    port = free_port()
    env = {**os.environ, "KEDAH_PG_URL": pg_url}
    processes = serving.start([serving.dashboard_command("127.0.0.1", port)], cwd=ROOT, env=env)
    address = f"http://127.0.0.1:{port}"
    try:
        if not serving.wait_for_http(f"{address}/_stcore/health", processes[0], timeout_s=120):
            raise RuntimeError("the dashboard did not come up")
        yield address
    finally:
        serving.stop(processes)


@contextmanager
def chromium(width: int = 1400, height: int = 1000) -> Iterator:  # the selenium WebDriver
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={width},{height}"):  # fmt: skip
        options.add_argument(argument)
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        options.binary_location = binary
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def open_page(driver, address: str, timeout_s: float = 60, **params: str) -> str:  # type: ignore[no-untyped-def]
    """Load a dashboard page and wait until it has drawn its header and stopped running; its header."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{address}/?{urlencode(params)}")
    wait = WebDriverWait(driver, timeout_s)
    header = wait.until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, "h2")))
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'))
    return header.text


def card(driver, label: str, timeout_s: float = 30) -> str:  # type: ignore[no-untyped-def]
    """The value shown on the metric card with this label, once the page has drawn it.

    Waited for, not looked up once: Streamlit draws a page's header before its cards, and its
    "running" widget shows only after a delay, so a loaded header does not mean drawn cards."""
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    def value(d) -> str | bool:  # type: ignore[no-untyped-def]
        try:
            for element in d.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
                if (
                    element.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip()
                    == label
                ):
                    return element.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
        except StaleElementReferenceException:  # redrawn while read: look again
            return False
        return False

    try:
        return WebDriverWait(driver, timeout_s).until(value)
    except TimeoutException:
        raise LookupError(f"no card {label!r} after {timeout_s:.0f} s") from None
