"""Data-quality checks on the marts, as plain functions over the warehouse returning CheckOutcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from kedah_analytics.marts.build import ALL_KEDAH, ALL_PLATFORMS
from kedah_analytics.quality.tables import CheckOutcome, aggregate_row, duplicate_keys


def _count(conn: psycopg.Connection, query: str, params: tuple = ()) -> int:
    return int(aggregate_row(conn, query, params)[0])


def _none_found(**bad: int) -> CheckOutcome:
    """Passed when every count of bad rows (or days) is 0; each count is in the details by name."""
    return CheckOutcome(sum(bad.values()) == 0, dict(bad))


def overview_adds_up(conn: psycopg.Connection) -> CheckOutcome:
    """Sentiment counts add up to posts; each city's platforms add up to its 'all' row; the
    cities add up to 'All Kedah'; and 'All Kedah' holds every post of place_daily_metrics."""
    labels = _count(
        conn, "SELECT count(*) FROM kedah.city_daily_overview WHERE positive + neutral + negative <> posts"
    )
    platforms = _count(
        conn,
        """SELECT count(*) FROM (
             SELECT date, city, provider, sum(posts) FILTER (WHERE platform <> %s) AS parts,
                    sum(engagement) FILTER (WHERE platform <> %s) AS eparts,
                    max(posts) FILTER (WHERE platform = %s) AS total,
                    max(engagement) FILTER (WHERE platform = %s) AS etotal
             FROM kedah.city_daily_overview GROUP BY 1, 2, 3) t
           WHERE parts IS DISTINCT FROM total OR eparts IS DISTINCT FROM etotal""",
        (ALL_PLATFORMS,) * 4,
    )
    cities = _cities_not_adding_up(conn, "city_daily_overview", "platform")
    source = _count(
        conn,
        """SELECT count(*) FROM (
             SELECT date, CASE WHEN provider = 'demo' THEN 'demo' ELSE 'real' END AS provider, sum(posts) AS posts
             FROM kedah.place_daily_metrics
             WHERE date IN (SELECT DISTINCT date FROM kedah.city_daily_overview) GROUP BY 1, 2) m
           FULL JOIN (SELECT date, provider, posts FROM kedah.city_daily_overview
                      WHERE city = %s AND platform = %s) o USING (date, provider)
           WHERE m.posts IS DISTINCT FROM o.posts AND coalesce(m.posts, 0) + coalesce(o.posts, 0) > 0""",
        (ALL_KEDAH, ALL_PLATFORMS),
    )
    return _none_found(
        labels_not_adding_up=labels, platforms_not_adding_up=platforms, cities_not_adding_up=cities,
        days_differing_from_place_daily_metrics=source,
    )  # fmt: skip


def _cities_not_adding_up(conn: psycopg.Connection, table: str, by: str) -> int:
    """Days (per ``by`` and provider) of ``kedah.<table>`` whose cities' posts do not add up to
    their 'All Kedah' row."""
    return _count(
        conn,
        f"""SELECT count(*) FROM (
             SELECT date, {by}, provider, sum(posts) FILTER (WHERE city <> %s) AS parts,
                    max(posts) FILTER (WHERE city = %s) AS total
             FROM kedah.{table} GROUP BY 1, 2, 3) t
           WHERE parts IS DISTINCT FROM total""",
        (ALL_KEDAH, ALL_KEDAH),
    )


def rankings_consistent(conn: psycopg.Connection) -> CheckOutcome:
    """Ranks run 1..n without gaps or ties per day and provider; shares of voice add up to 1."""
    ranks = _count(
        conn,
        """SELECT count(*) FROM (
             SELECT date, provider, count(*) AS n, count(DISTINCT rank_engagement) AS re,
                    count(DISTINCT rank_posts) AS rp, max(rank_engagement) AS mre, max(rank_posts) AS mrp
             FROM kedah.place_rankings GROUP BY 1, 2) t
           WHERE n <> re OR n <> rp OR n <> mre OR n <> mrp""",
    )
    shares = _count(
        conn,
        """SELECT count(*) FROM (SELECT date, provider, sum(share_of_voice_kedah) AS s
                                 FROM kedah.place_rankings GROUP BY 1, 2) t
           WHERE abs(s - 1) > 1e-3""",
    )
    return _none_found(days_with_bad_ranks=ranks, days_with_shares_not_adding_to_1=shares)


def category_adds_up(conn: psycopg.Connection) -> CheckOutcome:
    """Sentiment counts add up to posts; the cities add up to 'All Kedah' per category."""
    labels = _count(
        conn, "SELECT count(*) FROM kedah.sentiment_by_category WHERE positive + neutral + negative <> posts"
    )
    cities = _cities_not_adding_up(conn, "sentiment_by_category", "category")
    means = _count(
        conn, "SELECT count(*) FROM kedah.sentiment_by_category WHERE sentiment_mean NOT BETWEEN -1 AND 1"
    )
    return _none_found(labels_not_adding_up=labels, cities_not_adding_up=cities, means_out_of_range=means)


def top_posts_valid(conn: psycopg.Connection) -> CheckOutcome:
    """No spam among the top posts; a better rank never has less engagement; each post once per day."""
    spam = _count(
        conn,
        """SELECT count(*) FROM kedah.top_posts t JOIN kedah.classified_posts c USING (platform, post_id)
           WHERE c.is_spam""",
    )
    order = _count(
        conn,
        """SELECT count(*) FROM kedah.top_posts a JOIN kedah.top_posts b
             ON (a.date, a.place_id, a.provider) = (b.date, b.place_id, b.provider) AND b.rank = a.rank + 1
           WHERE b.engagement > a.engagement""",
    )
    repeated = duplicate_keys(conn, "top_posts", ["date", "platform", "post_id"]).details["duplicated_keys"]
    return _none_found(spam_posts=spam, ranks_out_of_order=order, posts_listed_twice=repeated)


def alerts_explained(conn: psycopg.Connection) -> CheckOutcome:
    """Every alert says why: a message, a baseline, and at least one post behind it."""
    unexplained = _count(
        conn,
        """SELECT count(*) FROM kedah.alerts
           WHERE btrim(message) = '' OR jsonb_array_length(top_posts) = 0 OR posts <= 0""",
    )
    total = _count(conn, "SELECT count(*) FROM kedah.alerts")
    return CheckOutcome(unexplained == 0, {"alerts_without_evidence": unexplained, "alerts": total})


@dataclass(frozen=True)
class MartCheck:
    asset: str
    name: str
    description: str
    run: Callable[[psycopg.Connection], CheckOutcome]

    def __call__(self, conn: psycopg.Connection) -> CheckOutcome:
        return self.run(conn)


def _unique(table: str, key: list[str]) -> Callable[[psycopg.Connection], CheckOutcome]:
    return lambda conn: duplicate_keys(conn, table, key)


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
