"""Only transient failures are retried: real Dagster runs, real retry policies, a real PostgreSQL.

The project's assets run with TRANSIENT_RETRY; where a test needs the retries themselves to
happen, it uses assets with the same mechanism and the same number of retries but no wait, so no
test waits 30 s for Dagster's delay.
"""

from datetime import date

import dagster as dg
import pytest
from demo_resources import demo_resources

from assets.common.retries import TRANSIENT_RETRY, retry_only_transient
from assets.ingest.assets import raw_posts
from kedah_analytics.classify.base import Sentiment
from kedah_analytics.definitions import defs
from kedah_analytics.sources.common.base import FetchResult, PostSource, SourceError
from kedah_analytics.warehouse.connection import connect
from resources import PostgresWarehouse, PostSources, SentimentResource
from resources.io_manager import final_unless_transient

NOWHERE = "postgresql://postgres@127.0.0.1:1/postgres"  # nothing listens on port 1: refused at once
PARTITION = "2026-11-20|twitter"
# TRANSIENT_RETRY's retries without its wait.
NO_WAIT = dg.RetryPolicy(max_retries=TRANSIENT_RETRY.max_retries)
ATTEMPTS = TRANSIENT_RETRY.max_retries + 1


def attempts(result: dg.ExecuteInProcessResult, step: str) -> int:
    """How many times ``step`` ran: its first start and each restart after a retry."""
    started = (dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED)
    return sum(1 for e in result.all_events if e.step_key == step and e.event_type in started)


def events_of(result: dg.ExecuteInProcessResult, kind: dg.DagsterEventType) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type == kind]


def failure(result: dg.ExecuteInProcessResult):
    """The description and metadata of the run's one step failure (None if Dagster had none)."""
    (failed,) = events_of(result, dg.DagsterEventType.STEP_FAILURE)
    return failed.step_failure_data.user_failure_data


# -- the mechanism, on assets that run with no wait between attempts --------------------------

calls: list[int] = []


@dg.asset
def answer() -> int:
    return 42


@dg.asset(retry_policy=NO_WAIT)
@retry_only_transient
def unreachable(context: dg.AssetExecutionContext, warehouse: PostgresWarehouse, answer: int) -> int:
    """The warehouse cannot be reached: a real WarehouseUnavailable, on every attempt."""
    calls.append(context.retry_number)
    with connect(NOWHERE):
        return answer


@dg.asset(retry_policy=NO_WAIT)
@retry_only_transient
def unreachable_once(context: dg.AssetExecutionContext, warehouse: PostgresWarehouse, answer: int) -> int:
    """The warehouse cannot be reached on the first attempt only."""
    calls.append(context.retry_number)
    if context.retry_number == 0:
        with connect(NOWHERE):
            pass
    return _select_int(warehouse, answer)


@dg.asset(retry_policy=NO_WAIT)
@retry_only_transient
def bad_data(context: dg.AssetExecutionContext, warehouse: PostgresWarehouse, answer: int) -> int:
    """A value PostgreSQL refuses: a real DataError, the same on every attempt."""
    calls.append(context.retry_number)
    return _select_int(warehouse, f"{answer} posts")


def _select_int(warehouse: PostgresWarehouse, value: object) -> int:
    with warehouse.connection() as conn:
        row = conn.execute("SELECT %s::int", [value]).fetchone()
    assert row is not None
    return int(row[0])


@dg.asset(retry_policy=NO_WAIT)
@retry_only_transient
def says_retry(context: dg.AssetExecutionContext) -> None:
    """A dg.Failure keeps its own allow_retries (here: the default, retried)."""
    calls.append(context.retry_number)
    raise dg.Failure("the provider asked to come back later", allow_retries=True)


def run(url: str, *assets: dg.AssetsDefinition) -> dg.ExecuteInProcessResult:
    calls.clear()
    return dg.materialize(
        [answer, *assets], resources={"warehouse": PostgresWarehouse(url=url)}, raise_on_error=False
    )


def test_a_transient_failure_is_retried_per_the_policy(warehouse_url):
    result = run(warehouse_url, unreachable)
    assert not result.success
    assert calls == list(range(ATTEMPTS)) and attempts(result, "unreachable") == ATTEMPTS
    assert len(events_of(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)) == ATTEMPTS - 1


def test_a_transient_failure_that_clears_succeeds_on_the_next_attempt(warehouse_url):
    result = run(warehouse_url, unreachable_once)
    assert result.success and result.output_for_node("unreachable_once") == 42
    assert calls == [0, 1] and attempts(result, "unreachable_once") == 2


def test_a_failure_that_is_not_transient_fails_once_with_its_whole_message(warehouse_url):
    result = run(warehouse_url, bad_data)
    assert not result.success
    assert calls == [0] and attempts(result, "bad_data") == 1
    assert not events_of(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    data = failure(result)
    assert data is not None
    assert (data.description or "").startswith(
        'bad_data failed: InvalidTextRepresentation: invalid input syntax for type integer: "42 posts"'
    )
    assert data.metadata["error_type"].value == "InvalidTextRepresentation"


def test_a_failure_raised_by_the_body_keeps_its_own_allow_retries(warehouse_url):
    result = run(warehouse_url, says_retry)
    assert calls == list(range(ATTEMPTS)) and attempts(result, "says_retry") == ATTEMPTS
    data = failure(result)
    assert data is not None and data.description == "the provider asked to come back later"


def test_only_functions_that_return_are_wrapped():
    def rows():
        yield 1

    with pytest.raises(TypeError, match="rows: retry_only_transient wraps functions that return"):
        retry_only_transient(rows)


def test_every_asset_with_a_retry_policy_retries_only_transient_failures():
    retried = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition) and a.op.retry_policy]
    assert {a.key.to_user_string() for a in retried} >= {"raw_posts", "classified_posts"}
    for asset in retried:
        assert asset.op.retry_policy == TRANSIENT_RETRY, asset.key
        assert getattr(asset.op.compute_fn.decorated_fn, "retries_only_transient", False), asset.key


# -- the project's assets, with their own retry policy ---------------------------------------

source_calls: list[list[date]] = []


class FailingSource:
    """A post source with a mistake in it (or, with ``error`` transient, a dropped connection)."""

    provider = "x_api_v2"
    polls_from_cursors = False

    def __init__(self, error: BaseException):
        self.error = error

    def fetch_posts(self, platform: str, days: list[date], cursors=None) -> FetchResult:
        source_calls.append(days)
        raise self.error


ERRORS: dict[str, BaseException] = {
    "bug": KeyError("public_metrics"),
    "connection_reset": ConnectionResetError(104, "Connection reset by peer"),
    "retryable_source_error": SourceError("X answered 503 four times", retryable=True),
}


class FailingPostSources(PostSources):
    error: str

    def source_for(self, platform: str) -> PostSource:
        return FailingSource(ERRORS[self.error])


def materialize(url: str, selection: str, **resources) -> dg.ExecuteInProcessResult:
    source_calls.clear()
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(
            list(defs.assets),
            selection=[selection],
            partition_key=None if selection == "places" else PARTITION,
            resources=demo_resources(url, **resources),
            instance=instance,
            raise_on_error=False,
        )


def test_a_mistake_in_a_source_fails_raw_posts_once(warehouse_url):
    result = materialize(
        warehouse_url, "raw_posts", post_sources=FailingPostSources(mode="demo", error="bug")
    )
    assert not result.success
    assert len(source_calls) == 1 and attempts(result, "raw_posts") == 1
    assert not events_of(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    data = failure(result)
    assert (
        data is not None
        and data.description == "materializing kedah.raw_posts failed: KeyError: 'public_metrics'"
    )


@pytest.mark.parametrize(
    ("error", "raised"),
    [("connection_reset", ConnectionResetError), ("retryable_source_error", dg.Failure)],
)
def test_a_transient_source_failure_reaches_raw_posts_retry_policy(warehouse_url, error, raised):
    # raw_posts fetches while the IO manager stores its chunks: the body's chunks are consumed here
    # under the IO manager's own rule, so what reaches Dagster's retry policy is what it would get:
    # a transient failure as itself or as a Failure that allows retries (the retries themselves
    # are shown above without TRANSIENT_RETRY's 30 s wait).
    source_calls.clear()
    sources = FailingPostSources(mode="demo", error=error)
    with (
        dg.build_asset_context(partition_key=PARTITION) as context,
        pytest.raises(raised) as err,
    ):
        output = raw_posts(context, post_sources=sources, warehouse=PostgresWarehouse(url=warehouse_url))
        assert not source_calls  # nothing is fetched before the IO manager takes the chunks
        with final_unless_transient("materializing kedah.raw_posts"):
            list(output.value.chunks)
    assert len(source_calls) == 1
    assert getattr(err.value, "allow_retries", True)
    if isinstance(err.value, dg.Failure):
        assert "X answered 503 four times" in (err.value.description or "")


classifier_errors: list[str] = []


class BrokenClassifier:
    name, version = "broken", "1"

    def predict(self, texts: list[str]) -> list[Sentiment]:
        classifier_errors.append(f"cannot score {len(texts)} texts: the model expects 12 features, got 11")
        raise ValueError(classifier_errors[-1])


class BrokenSentiment(SentimentResource):
    def get_classifier(self, cache_url: str | None = None) -> BrokenClassifier:  # type: ignore[override]
        return BrokenClassifier()


def test_a_classifier_that_crashes_fails_classified_posts_once(warehouse_url):
    for upstream in ("places", "raw_posts"):
        assert materialize(warehouse_url, upstream).success
    classifier_errors.clear()
    result = materialize(warehouse_url, "classified_posts", sentiment=BrokenSentiment())
    assert not result.success and attempts(result, "classified_posts") == 1
    assert len(classifier_errors) == 1
    assert not events_of(result, dg.DagsterEventType.STEP_UP_FOR_RETRY)
    data = failure(result)
    assert data is not None
    assert (
        data.description == f"materializing kedah.classified_posts failed: ValueError: {classifier_errors[0]}"
    )
