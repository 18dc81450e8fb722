"""What importing the code location costs on top of ``import dagster``: every run worker, UI
reload, sensor tick and CLI command pays it.

Each figure is the median of several fresh interpreters (``python -c 'import X'``), the two
measured alternately in the same run so that the machine's load weighs on both alike; beside the
wall time, each interpreter's CPU time (user + system), which a busy machine inflates far less. Then one
``python -X importtime`` of the code location, parsed: the modules it loads that ``import dagster``
does not, heaviest first (cumulative time, so a package includes what it pulled in).

Run: .venv/bin/python bench/bench_import.py [--repeats 7] [--top 15]
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import time

CODE_LOCATION = "kedah_analytics.definitions"
IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)")


def import_seconds(module: str) -> tuple[float, float]:
    """Wall and CPU (user + system) seconds of a fresh interpreter importing ``module``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=os.environ.copy())
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def imported_modules(module: str) -> dict[str, tuple[int, int]]:
    """Module name -> (cumulative µs, depth) from one ``-X importtime`` run."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        check=True,
        capture_output=True,
        text=True,
    )
    modules: dict[str, tuple[int, int]] = {}
    for line in done.stderr.splitlines():
        match = IMPORTTIME.match(line)
        if match:
            modules[match.group(4)] = (int(match.group(2)), len(match.group(3)) // 2)
    return modules


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    import_seconds("dagster")  # warm the file cache for both
    import_seconds(CODE_LOCATION)
    dagster_s: list[float] = []
    location_s: list[float] = []
    dagster_cpu: list[float] = []
    location_cpu: list[float] = []
    for _ in range(args.repeats):
        for module, walls, cpus in (
            ("dagster", dagster_s, dagster_cpu),
            (CODE_LOCATION, location_s, location_cpu),
        ):
            wall, cpu = import_seconds(module)
            walls.append(wall)
            cpus.append(cpu)
    base, full = statistics.median(dagster_s), statistics.median(location_s)
    base_cpu, full_cpu = statistics.median(dagster_cpu), statistics.median(location_cpu)

    ours = imported_modules(CODE_LOCATION)
    theirs = imported_modules("dagster")
    extra = {name: v for name, v in ours.items() if name not in theirs}
    # Top-level packages only (a package's cumulative time includes its submodules).
    tops = {
        name: v
        for name, v in extra.items()
        if "." not in name or name.split(".")[0] in ("assets", "resources", "sensors", "kedah_analytics")
    }
    heaviest = sorted(tops.items(), key=lambda kv: -kv[1][0])[: args.top]

    print(
        f"interpreters: {args.repeats} of each, alternating; medians (load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"import dagster:                 {base:.2f} s   (runs: {', '.join(f'{s:.2f}' for s in dagster_s)})"
    )
    print(f"import {CODE_LOCATION}: {full:.2f} s   (runs: {', '.join(f'{s:.2f}' for s in location_s)})")
    print(
        f"CPU time (user + system), medians: import dagster {base_cpu:.2f} s, {CODE_LOCATION} {full_cpu:.2f} s"
    )
    print(f"modules loaded beyond dagster: {len(extra)}; heaviest (cumulative, one -X importtime run):")
    for name, (cumulative_us, _) in heaviest:
        print(f"  {cumulative_us / 1e3:8.1f} ms  {name}")
    heavy = sorted(
        {n.split(".")[0] for n in extra}
        & {
            "sklearn",
            "scipy",
            "joblib",
            "tweepy",
            "pytrends",
            "googleapiclient",
            "matplotlib",
            "pandas",
            "numpy",
            "requests",
            "httpx",
        }
    )
    print(f"heavy libraries loaded at import: {', '.join(heavy) or 'none'}")
    print(f"import_extra_cpu_s: {full_cpu - base_cpu:.2f}")
    print(f"import_extra_s: {full - base:.2f}")


if __name__ == "__main__":
    main()
