"""Data-quality checks on the marts, as plain functions over the warehouse returning CheckOutcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

import psycopg

from kedah_analytics.quality.tables import CheckOutcome, aggregate_row, duplicate_keys
from kedah_analytics.warehouse.scope import PartitionFilter

Partitions = PartitionFilter | None
# The checked days in SQL: every mart is partitioned by its ``date`` column (None: every day).
IN_SCOPE = "(%(days)s::date[] IS NULL OR date = ANY(%(days)s::date[]))"


def _days(partitions: Partitions) -> list[date] | None:
    return (
        None
        if partitions is None
        else [value[partitions.columns.index("date")] for value in partitions.values]
    )


def _count(conn: psycopg.Connection, query: str, partitions: Partitions, **params: Any) -> int:
    """The count ``query`` returns; ``{scope}`` in it selects the checked days."""
    from kedah_analytics.marts.build import ALL_KEDAH, ALL_PLATFORMS  # pandas: only when a check runs

    named = {**params, "days": _days(partitions), "all_kedah": ALL_KEDAH, "all_platforms": ALL_PLATFORMS}
    return int(aggregate_row(conn, query.replace("{scope}", IN_SCOPE), named)[0])  # type: ignore[arg-type]


def _none_found(**bad: int) -> CheckOutcome:
    """Passed when every count of bad rows (or days) is 0; each count is in the details by name."""
    return CheckOutcome(sum(bad.values()) == 0, dict(bad))


def overview_adds_up(conn: psycopg.Connection, partitions: Partitions = None) -> CheckOutcome:
    """Sentiment counts add up to posts; each city's platforms add up to its 'all' row; the
    cities add up to 'All Kedah'; and 'All Kedah' holds every post of place_daily_metrics."""
    labels = _count(
        conn,
        "SELECT count(*) FROM kedah.city_daily_overview WHERE positive + neutral + negative <> posts AND {scope}",
        partitions,
    )
    platforms = _count(
        conn,
        """SELECT count(*) FROM (
             SELECT date, city, provider, sum(posts) FILTER (WHERE platform <> %(all_platforms)s) AS parts,
                    sum(engagement) FILTER (WHERE platform <> %(all_platforms)s) AS eparts,
                    max(posts) FILTER (WHERE platform = %(all_platforms)s) AS total,
                    max(engagement) FILTER (WHERE platform = %(all_platforms)s) AS etotal
             FROM kedah.city_daily_overview WHERE {scope} GROUP BY 1, 2, 3) t
           WHERE parts IS DISTINCT FROM total OR eparts IS DISTINCT FROM etotal""",
        partitions,
    )
    cities = _cities_not_adding_up(conn, "city_daily_overview", "platform", partitions)
    source = _count(
        conn,
        """SELECT count(*) FROM (
             SELECT date, CASE WHEN provider = 'demo' THEN 'demo' ELSE 'real' END AS provider, sum(posts) AS posts
             FROM kedah.place_daily_metrics
             WHERE date IN (SELECT DISTINCT date FROM kedah.city_daily_overview WHERE {scope}) GROUP BY 1, 2) m
           FULL JOIN (SELECT date, provider, posts FROM kedah.city_daily_overview
                      WHERE city = %(all_kedah)s AND platform = %(all_platforms)s AND {scope}) o
             USING (date, provider)
           WHERE m.posts IS DISTINCT FROM o.posts AND coalesce(m.posts, 0) + coalesce(o.posts, 0) > 0""",
        partitions,
    )
    return _none_found(
        labels_not_adding_up=labels, platforms_not_adding_up=platforms, cities_not_adding_up=cities,
        days_differing_from_place_daily_metrics=source,
    )  # fmt: skip


def _cities_not_adding_up(conn: psycopg.Connection, table: str, by: str, partitions: Partitions) -> int:
    """Days (per ``by`` and provider) of ``kedah.<table>`` whose cities' posts do not add up to
    their 'All Kedah' row."""
    return _count(
        conn,
        f"""SELECT count(*) FROM (
             SELECT date, {by}, provider, sum(posts) FILTER (WHERE city <> %(all_kedah)s) AS parts,
                    max(posts) FILTER (WHERE city = %(all_kedah)s) AS total
             FROM kedah.{table} WHERE {{scope}} GROUP BY 1, 2, 3) t
           WHERE parts IS DISTINCT FROM total""",
        partitions,
    )


def rankings_consistent(conn: psycopg.Connection, partitions: Partitions = None) -> CheckOutcome:
    """Ranks run 1..n without gaps or ties per day and provider; shares of voice add up to 1."""
    ranks = _count(
        conn,
        """SELECT count(*) FROM (
             SELECT date, provider, count(*) AS n, count(DISTINCT rank_engagement) AS re,
                    count(DISTINCT rank_posts) AS rp, max(rank_engagement) AS mre, max(rank_posts) AS mrp
             FROM kedah.place_rankings WHERE {scope} GROUP BY 1, 2) t
           WHERE n <> re OR n <> rp OR n <> mre OR n <> mrp""",
        partitions,
    )
    shares = _count(
        conn,
        """SELECT count(*) FROM (SELECT date, provider, sum(share_of_voice_kedah) AS s
                                 FROM kedah.place_rankings WHERE {scope} GROUP BY 1, 2) t
           WHERE abs(s - 1) > 1e-3""",
        partitions,
    )
    return _none_found(days_with_bad_ranks=ranks, days_with_shares_not_adding_to_1=shares)


def category_adds_up(conn: psycopg.Connection, partitions: Partitions = None) -> CheckOutcome:
    """Sentiment counts add up to posts; the cities add up to 'All Kedah' per category."""
    labels = _count(
        conn,
        "SELECT count(*) FROM kedah.sentiment_by_category WHERE positive + neutral + negative <> posts AND {scope}",
        partitions,
    )
    cities = _cities_not_adding_up(conn, "sentiment_by_category", "category", partitions)
    means = _count(
        conn,
        "SELECT count(*) FROM kedah.sentiment_by_category WHERE sentiment_mean NOT BETWEEN -1 AND 1 AND {scope}",
        partitions,
    )
    return _none_found(labels_not_adding_up=labels, cities_not_adding_up=cities, means_out_of_range=means)


def top_posts_valid(conn: psycopg.Connection, partitions: Partitions = None) -> CheckOutcome:
    """No spam among the top posts; a better rank never has less engagement; each post once per day."""
    spam = _count(
        conn,
        """SELECT count(*) FROM (SELECT * FROM kedah.top_posts WHERE {scope}) t
           JOIN kedah.classified_posts c USING (platform, post_id) WHERE c.is_spam""",
        partitions,
    )
    order = _count(
        conn,
        """SELECT count(*) FROM (SELECT * FROM kedah.top_posts WHERE {scope}) a JOIN kedah.top_posts b
             ON (a.date, a.place_id, a.provider) = (b.date, b.place_id, b.provider) AND b.rank = a.rank + 1
           WHERE b.engagement > a.engagement""",
        partitions,
    )
    repeated = duplicate_keys(conn, "top_posts", ["date", "platform", "post_id"], partitions)
    return _none_found(
        spam_posts=spam, ranks_out_of_order=order, posts_listed_twice=repeated.details["duplicated_keys"]
    )


def alerts_explained(conn: psycopg.Connection, partitions: Partitions = None) -> CheckOutcome:
    """Every alert says why: a message, a baseline, and at least one post behind it."""
    unexplained = _count(
        conn,
        """SELECT count(*) FROM kedah.alerts
           WHERE (btrim(message) = '' OR jsonb_array_length(top_posts) = 0 OR posts <= 0) AND {scope}""",
        partitions,
    )
    total = _count(conn, "SELECT count(*) FROM kedah.alerts WHERE {scope}", partitions)
    return CheckOutcome(unexplained == 0, {"alerts_without_evidence": unexplained, "alerts": total})


@dataclass(frozen=True)
class MartCheck:
    asset: str
    name: str
    description: str
    run: Callable[..., CheckOutcome]

    def __call__(self, conn: psycopg.Connection, partitions: Partitions = None) -> CheckOutcome:
        """The check on the days ``partitions`` names (every day when None)."""
        return self.run(conn, partitions=partitions)


def _unique(table: str, key: list[str]) -> Callable[..., CheckOutcome]:
    return lambda conn, partitions=None: duplicate_keys(conn, table, key, partitions)


_CHECKS = [
    MartCheck("city_daily_overview", "city_daily_overview_adds_up",
              "Sentiment counts add up to posts; platforms and cities add up to their totals; All Kedah matches place_daily_metrics.",
              overview_adds_up),
    MartCheck("place_rankings", "place_rankings_consistent",
              "Ranks 1..n without gaps per day; shares of voice add up to 1.", rankings_consistent),
    MartCheck("sentiment_by_category", "sentiment_by_category_adds_up",
              "Sentiment counts add up to posts; cities add up to All Kedah; means in -1..1.", category_adds_up),
    MartCheck("top_posts", "top_posts_valid",
              "No spam; a better rank never has less engagement; a post listed once per day.", top_posts_valid),
    MartCheck("top_posts", "top_posts_keys_unique", "No two rows share (date, place, provider, rank).",
              _unique("top_posts", ["date", "place_id", "provider", "rank"])),
    MartCheck("alerts", "alerts_explained", "Every alert has a message, a baseline and the posts behind it.",
              alerts_explained),
]  # fmt: skip
mart_checks: dict[str, MartCheck] = {check.name: check for check in _CHECKS}
