"""The board's window on a year of demo marts: requests per second and p50/p95 latency of the API's
overview and popular-places endpoints with 1 and 20 concurrent clients, against the same answer
built by calling the library directly in Python; and the dashboard's Overview page, the first time
and cached, against the queries it calls made directly.

The year of marts is built by the project's own mart functions (kedah_analytics.marts.build) from
365 days of invented place metrics (50 places x 4 platforms, ending yesterday so named periods
such as ``month`` fall on it) and written with the project's load path. The API runs as
``kedah-analytics api`` (uvicorn, one process) on this machine; the clients are threads here.

Run: .venv/bin/python bench/bench_api.py [--requests 200] [--clients 20]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _db import scratch_database  # noqa: E402

from kedah_analytics import queries, serving  # noqa: E402
from kedah_analytics.api import payloads  # noqa: E402
from kedah_analytics.domain import KEDAH_TZ, PLATFORMS  # noqa: E402
from kedah_analytics.marts import build  # noqa: E402
from kedah_analytics.marts.periods import Period, kedah_today  # noqa: E402
from kedah_analytics.places import load_places  # noqa: E402
from kedah_analytics.warehouse import replace_partitions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
ENDPOINTS = {
    "overview": "/api/analytics/overview-metrics/?city=langkawi&period=month",
    "popular_places": "/api/analytics/places/popular/?city=langkawi&period=month",
}


def year_of_metrics(days: list[date], places: pd.DataFrame) -> pd.DataFrame:
    rng = np.random.default_rng(20261203)
    grid = pd.MultiIndex.from_product(
        [days, places["place_id"], PLATFORMS], names=["date", "place_id", "platform"]
    )
    frame = grid.to_frame(index=False)
    frame = frame.merge(
        places[["place_id", "name", "city"]].rename(columns={"name": "place_name"}), on="place_id"
    )
    n = len(frame)
    frame["provider"] = "demo"
    frame["posts"] = rng.poisson(3, n)
    frame["spam_posts"] = rng.binomial(frame["posts"], 0.05)
    for column, scale in (("likes", 40), ("comments", 5), ("shares", 3), ("views", 300)):
        frame[column] = (frame["posts"] * rng.gamma(1.0, scale, n)).astype("int64")
    frame["positive"] = rng.binomial(frame["posts"], 0.5)
    frame["negative"] = rng.binomial(frame["posts"] - frame["positive"], 0.3)
    frame["neutral"] = frame["posts"] - frame["positive"] - frame["negative"]
    frame["sentiment_mean"] = np.where(frame["posts"] > 0, rng.uniform(-0.3, 0.7, n), np.nan)
    frame["engagement"] = frame["likes"] + frame["comments"] + frame["shares"]
    return frame


def build_year(url: str) -> int:
    places = load_places()
    end = kedah_today() - timedelta(days=1)
    days = [end - timedelta(days=d) for d in range(364, -1, -1)]
    metrics = year_of_metrics(days, places)
    marts = {
        "place_daily_metrics": metrics,
        "city_daily_overview": build.city_daily_overview(metrics),
        "sentiment_by_category": build.sentiment_by_category(metrics, places),
        "place_rankings": build.place_rankings(metrics, places, days),
    }
    with queries.connect(url) as conn:
        replace_partitions(conn, "places", places, None)
        for table, frame in marts.items():
            replace_partitions(conn, table, frame, None)
    return sum(len(frame) for table, frame in marts.items() if table != "place_daily_metrics")


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def load(
    base: str, path: str, clients: int, requests: int, *, unique: bool = False
) -> tuple[float, list[float]]:
    """``clients`` threads, each sending ``requests`` GETs one after another; (seconds, latencies in
    ms). ``unique``: every request differs (a parameter the endpoint ignores), so none is answered
    from the API's answer cache: each computes its figures."""
    latencies: list[float] = []
    lock = threading.Lock()
    counter = itertools.count()

    def client() -> None:
        mine = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for _ in range(requests):
                started = time.perf_counter()
                response = http.get(f"{path}&n={next(counter)}" if unique else path)
                response.raise_for_status()
                mine.append((time.perf_counter() - started) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies


def direct(call: Callable[[], object], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        out.append((time.perf_counter() - started) * 1000)
    return out


def dashboard_overview(url: str) -> tuple[float, float]:
    """Seconds of the Overview page rendered by Streamlit's AppTest: the first run, then cached."""
    from streamlit.testing.v1 import AppTest

    times = []
    at = AppTest.from_file(str(serving.DASHBOARD_APP), default_timeout=120)
    at.session_state["pg_url"] = url
    at.query_params.update({"page": "overview", "city": "langkawi", "period": "month"})
    for _ in range(2):
        started = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - started)
        assert not at.exception and at.metric, "the overview did not render"
    return times[0], times[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200, help="requests of the single client")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=20, help="requests of each concurrent client")
    args = parser.parse_args()
    with scratch_database("kedah_bench_api") as url:
        started = time.perf_counter()
        rows = build_year(url)
        print(f"marts_rows: {rows}  (a year, built in {time.perf_counter() - started:.1f}s)")
        port = 18000 + os.getpid() % 1000
        env = {**os.environ, "KEDAH_PG_URL": url}
        server = serving.start([serving.api_command("127.0.0.1", port)], cwd=ROOT, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            if not serving.wait_for_http(f"{base}/health", server[0]):
                raise SystemExit("the API did not come up")
            period = Period.parse("month", datetime.now(KEDAH_TZ))
            builders = {
                "overview": lambda conn: payloads.overview(conn, "Langkawi", period, "all", "auto"),
                "popular_places": lambda conn: payloads.popular_places(conn, "Langkawi", period, "engagement", 10,
                                                                       "auto"),
            }  # fmt: skip
            p95_20, p95_20_uncached = [], []
            for name, path in ENDPOINTS.items():
                load(base, path, 1, 5, unique=True)  # warm the server's connections
                for label, unique in (("_uncached", True), ("", False)):
                    seconds, one = load(base, path, 1, args.requests, unique=unique)
                    print(f"{name}_1_client{label}: {args.requests / seconds:.1f} req/s, p50 {percentile(one, 50):.1f} "
                          f"ms, p95 {percentile(one, 95):.1f} ms")  # fmt: skip
                    seconds, many = load(base, path, args.clients, args.per_client, unique=unique)
                    total = args.clients * args.per_client
                    print(f"{name}_{args.clients}_clients{label}: {total / seconds:.1f} req/s, p50 "
                          f"{percentile(many, 50):.1f} ms, p95 {percentile(many, 95):.1f} ms")  # fmt: skip
                    (p95_20_uncached if unique else p95_20).append(percentile(many, 95))
                with queries.connect(url) as conn:
                    conn.autocommit = True
                    same = direct(lambda conn=conn, name=name: builders[name](conn), args.requests)
                print(f"{name}_direct_python: {1000 / statistics.mean(same):.1f} calls/s, p50 "
                      f"{percentile(same, 50):.1f} ms, p95 {percentile(same, 95):.1f} ms")  # fmt: skip
            with httpx.Client(base_url=base) as http:
                tag = http.get(ENDPOINTS["overview"]).headers["etag"]
                started = time.perf_counter()
                for _ in range(50):
                    assert http.get(ENDPOINTS["overview"], headers={"If-None-Match": tag}).status_code == 304
                print(f"overview_304_ms: {(time.perf_counter() - started) / 50 * 1000:.1f}")
        finally:
            serving.stop(server)
        first, cached = dashboard_overview(url)
        calls = ["city_overview", "city_daily", "city_daily", "platform_breakdown"]
        with queries.connect(url) as conn:
            started = time.perf_counter()
            queries.city_overview(conn, "Langkawi", period, include_demo="only")
            queries.city_daily(conn, period, "Langkawi", include_demo="only")
            queries.city_daily(conn, period.previous(), "Langkawi", include_demo="only")
            queries.platform_breakdown(conn, "Langkawi", period, include_demo="only")
            queries_s = time.perf_counter() - started
        print(f"dashboard_overview_first_s: {first:.3f}")
        print(f"dashboard_overview_queries_direct_s: {queries_s:.3f}  ({', '.join(calls)})")
        print(f"p95_ms_20_clients_uncached: {max(p95_20_uncached):.1f}  (every request computed)")
        print(
            f"p95_ms_20_clients: {max(p95_20):.1f}  (the same views requested again, as a website's visitors do)"
        )
        print(f"dashboard_overview_s: {cached:.3f}")


if __name__ == "__main__":
    main()
