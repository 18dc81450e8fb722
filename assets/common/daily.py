"""Daily assets computed from a day's classified posts on every platform, one day at a time.

Daily place metrics and term counts share their shape: a daily partition reads every platform's
classified posts of its day, follows any day whose posts changed, and a ranged run reads, computes
and replaces a week at a time, one query and one transaction per week (bounded memory). Only the
computation and the figures differ.
"""

from collections.abc import Callable, Sequence

import dagster as dg

from assets.common.frames import DataFrame
from assets.common.partitions import ALL_PLATFORMS_OF_DAY, FOLLOW_ANY_CHANGED_DAY, daily_partitions
from kedah_analytics.warehouse import ReplaceChunks
from kedah_analytics.warehouse.read import DailyRows
from kedah_analytics.warehouse.writes import Describe

# Days read, computed and replaced per transaction in a ranged run (the computations group by day).
CHUNK_DAYS = 7


def daily_from_classified_posts(
    name: str,
    group_name: str,
    description: str,
    compute: Callable[[DataFrame, DataFrame], DataFrame],
    describe: Describe,
    columns: Sequence[str],
) -> dg.AssetsDefinition:
    """The asset ``name``: ``compute(posts, places)`` of the classified posts of a chunk of days
    (a result per day), replaced chunk by chunk; ``describe`` gives each day's figures.

    ``columns``: the classified posts' columns ``compute`` reads. The three daily assets read the
    same days in one run; each reads only its columns (about half the table, and the text arrays
    only where terms are counted) rather than every column three times."""

    @dg.asset(
        name=name,
        description=description,
        group_name=group_name,
        kinds={"postgres", "pandas"},
        partitions_def=daily_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        ins={"classified_posts": dg.AssetIn(partition_mapping=ALL_PLATFORMS_OF_DAY)},
        automation_condition=FOLLOW_ANY_CHANGED_DAY,
    )
    def daily(classified_posts: DailyRows, places: DataFrame) -> dg.Output[ReplaceChunks]:
        chunks = (
            (days, compute(posts, places))
            for days, posts in classified_posts.by_chunk(CHUNK_DAYS, columns=columns)
        )
        return dg.Output(ReplaceChunks(chunks, describe=describe))

    return daily
