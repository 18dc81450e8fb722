"""Run requests shared by the stages' schedules: a range of partitions in one run."""

from collections.abc import Callable, Iterable
from datetime import date

import dagster as dg
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from kedah_analytics.domain import PLATFORMS


def range_tags(start: str, end: str) -> dict[str, str]:
    """The tags that make one run cover the partitions ``start``..``end``."""
    return {ASSET_PARTITION_RANGE_START_TAG: start, ASSET_PARTITION_RANGE_END_TAG: end}


def platform_range_requests(
    first: date, last: date, run_key: Callable[[str], str], platforms: Iterable[str] = PLATFORMS
) -> list[dg.RunRequest]:
    """One run per platform covering the Kedah days ``first``..``last`` of date x platform assets;
    ``run_key(platform)`` keeps a schedule from launching the same run twice."""
    return [
        dg.RunRequest(
            run_key=run_key(platform),
            tags={**range_tags(f"{first}|{platform}", f"{last}|{platform}"), "kedah/platform": platform},
        )
        for platform in platforms
    ]
