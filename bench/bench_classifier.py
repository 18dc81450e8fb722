"""Posts per second of the offline sentiment model against VADER alone, on the same posts, one core.

    .venv/bin/python bench/bench_classifier.py [--posts 20000] [--repeat 3]

The posts are the vendored training tweets (English and Malay, about 4 to 1), cycled to the
requested count. Each classifier labels them all ``--repeat`` times; the first pass is shown apart
because the offline model remembers the character n-grams of each word it has seen.
"""

from __future__ import annotations

import os

# One core: pin BLAS before numpy loads, and the process to a single CPU.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from itertools import cycle, islice  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from kedah_analytics.classify.evaluation import read_labelled_tsv  # noqa: E402
from kedah_analytics.classify.offline import VaderClassifier, load_timed  # noqa: E402

DATA = ROOT / "kedah_analytics" / "data" / "sentiment"


def bench_posts(n: int) -> tuple[list[str], int, int]:
    english = read_labelled_tsv(DATA / "english_semeval_2013_2016.tsv").texts
    malay = (
        read_labelled_tsv(DATA / "malay_twitter_train.tsv").texts
        + read_labelled_tsv(DATA / "malay_twitter_politics.tsv").texts
    )
    n_malay = n // 5
    posts = english[: n - n_malay] + list(islice(cycle(malay), n_malay))
    return posts, n - n_malay, n_malay


def run(classifier, posts: list[str], repeat: int) -> list[float]:
    rates = []
    for _ in range(repeat):
        started = time.perf_counter()
        results = classifier.predict(posts)
        rates.append(len(posts) / (time.perf_counter() - started))
        assert len(results) == len(posts)
    return rates


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        cpu = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpu})
        where = f"pinned to CPU {cpu}"
    else:
        where = "not pinned (no sched_setaffinity here)"

    posts, n_english, n_malay = bench_posts(args.posts)
    mean_chars = statistics.mean(len(p) for p in posts)
    model, load_seconds = load_timed()
    classifiers = {
        "VADER alone (vaderSentiment 3.3.2)": VaderClassifier(),
        f"{model.name} {model.version}": model,
    }

    print(
        f"{len(posts)} posts ({n_english} English, {n_malay} Malay tweets, {mean_chars:.0f} chars on average), {where}"
    )
    print(f"offline model loaded in {load_seconds:.2f} s")
    print()
    print(f"| classifier | first pass posts/s | best of {args.repeat} posts/s |")
    print("|---|---:|---:|")
    for name, classifier in classifiers.items():
        rates = run(classifier, posts, args.repeat)
        print(f"| {name} | {rates[0]:,.0f} | {max(rates):,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
