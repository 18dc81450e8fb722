"""The run scope: a run's partition keys parsed once, narrowed without parsing again, and the same
rows Dagster's own partitions definitions give; a write whose scope is not its run's is refused."""

from datetime import date

import dagster as dg
import pandas as pd
import pytest

from assets.common.partitions import daily_partitions, date_platform_partitions
from assets.trends.assets import weekly_partitions
from kedah_analytics.warehouse import ReplaceRows, RunScope
from kedah_analytics.warehouse.scope import DAY_KEY, Dimension
from resources import PostgresIOManager
from resources.run_scope import run_scope, scope_of

DATE_PLATFORM = [Dimension("date", DAY_KEY), Dimension("platform")]
KEYS = ["2026-11-19|instagram", "2026-11-19|twitter", "2026-11-20|instagram", "2026-11-20|twitter"]


def test_a_scope_holds_each_key_with_the_rows_it_names():
    scope = RunScope.parse(KEYS, DATE_PLATFORM)
    assert scope.columns == ("date", "platform")
    assert scope.rows.values[0] == (date(2026, 11, 19), "instagram")
    assert scope.key_of((date(2026, 11, 20), "twitter")) == "2026-11-20|twitter"
    assert scope.days() == [date(2026, 11, 19), date(2026, 11, 20)]
    assert scope.days_by_platform() == {
        "instagram": [date(2026, 11, 19), date(2026, 11, 20)],
        "twitter": [date(2026, 11, 19), date(2026, 11, 20)],
    }


def test_narrowing_keeps_each_key_with_its_rows():
    scope = RunScope.parse(KEYS, DATE_PLATFORM)
    day = scope.on_days([date(2026, 11, 20)])
    assert day.keys == ("2026-11-20|instagram", "2026-11-20|twitter")
    assert day.rows.values == ((date(2026, 11, 20), "instagram"), (date(2026, 11, 20), "twitter"))
    twitter = scope.where("platform", ["twitter"]).on_days([date(2026, 11, 19)])
    assert twitter.keys == ("2026-11-19|twitter",)
    # A pandas Timestamp names the same day as a date.
    assert scope.on_days([pd.Timestamp("2026-11-19")]).keys == ("2026-11-19|instagram", "2026-11-19|twitter")
    assert len(scope.on_days([date(2026, 1, 1)])) == 0


def test_a_key_of_the_wrong_shape_is_refused_naming_it():
    with pytest.raises(ValueError, match="'2026-11-19' does not have 2 parts"):
        RunScope.parse(["2026-11-19"], DATE_PLATFORM)
    with pytest.raises(ValueError, match="no column 'platform'"):
        RunScope.parse(["2026-11-19"], [Dimension("date", DAY_KEY)]).days_by_platform()


def test_a_partition_filter_says_which_partitions_it_holds():
    scope = RunScope.parse(KEYS, DATE_PLATFORM)
    assert scope.where("platform", ["twitter"]).on_days([date(2026, 11, 19)]).rows.describe() == (
        "2026-11-19 x twitter"
    )
    assert scope.rows.describe() == "4 partitions (2026-11-19 x instagram .. 2026-11-20 x twitter)"


@pytest.mark.parametrize(
    ("partitions_def", "expr"),
    [(date_platform_partitions, None), (daily_partitions, None), (weekly_partitions, "week_start")],
)
def test_the_projects_partitions_give_the_rows_dagster_gives(partitions_def, expr):
    """The fast parse agrees with Dagster's own reading of every key of the project's partitions."""
    keys = partitions_def.get_partition_keys()[:120]
    scope = scope_of(partitions_def, keys, expr)
    assert scope is not None and scope.keys == tuple(keys)
    for key, value in zip(keys, scope.rows.values, strict=True):
        if isinstance(partitions_def, dg.MultiPartitionsDefinition):
            by_dim = partitions_def.get_partition_key_from_str(key).keys_by_dimension
            day = daily_partitions.time_window_for_partition_key(by_dim["date"]).start.date()
            assert value == (day, by_dim["platform"])
        else:
            assert value == (partitions_def.time_window_for_partition_key(key).start.date(),)
    assert scope.day_column == (expr or "date")


def test_the_io_manager_refuses_a_write_whose_scope_is_not_its_runs(warehouse_url):
    """A write carries its run's partitions; one that names others would write outside the run."""

    @dg.asset(name="place_daily_metrics", partitions_def=daily_partitions)
    def wrong_scope(context: dg.AssetExecutionContext) -> ReplaceRows:
        other = scope_of(daily_partitions, ["2026-11-01"])
        assert other is not None and run_scope(context).keys == ("2026-11-20",)
        return ReplaceRows(pd.DataFrame(), scope=other)

    result = dg.materialize(
        [wrong_scope], partition_key="2026-11-20", resources={"io_manager": PostgresIOManager(url=warehouse_url)},
        raise_on_error=False,
    )  # fmt: skip
    assert not result.success
    failure = result.get_step_failure_events()[0].step_failure_data.error
    assert failure is not None and "is not the run's partitions" in str(failure.to_string())


def test_rows_by_partition_gives_each_partition_its_own_rows_in_their_order() -> None:
    """What each partition's figures and preview are computed from: its rows, in the order the
    frame holds them, every partition present (empty where the frame has none), rows of other
    partitions left out; a day as a Timestamp or a date is the same partition."""
    from datetime import date

    import pandas as pd

    from kedah_analytics.warehouse.scope import PartitionFilter, rows_by_partition

    d1, d2, d3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
    frame = pd.DataFrame(
        {
            "date": [d2, d1, pd.Timestamp(d2), d1, d2, date(2026, 10, 1), d1],
            "platform": ["twitter", "twitter", "twitter", "youtube", "youtube", "twitter", "twitter"],
            "post_id": ["a", "b", "c", "d", "e", "f", "g"],
        },
        index=[10, 11, 12, 13, 14, 15, 16],
    )
    wanted = PartitionFilter(
        ("date", "platform"),
        ((d1, "twitter"), (d2, "twitter"), (d2, "youtube"), (d3, "twitter"), (d1, "youtube")),
    )
    parts = rows_by_partition(frame, wanted)
    assert list(parts) == list(wanted.values)
    assert {key: part["post_id"].tolist() for key, part in parts.items()} == {
        (d1, "twitter"): ["b", "g"],
        (d2, "twitter"): ["a", "c"],
        (d2, "youtube"): ["e"],
        (d3, "twitter"): [],
        (d1, "youtube"): ["d"],
    }
    assert parts[(d1, "twitter")].index.tolist() == [11, 16]
    assert list(parts[(d3, "twitter")].columns) == list(frame.columns)
    assert all(part.empty for part in rows_by_partition(frame.iloc[0:0], wanted).values())
