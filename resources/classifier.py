"""The sentiment classifier the classified_posts asset uses."""

import functools

import dagster as dg

from kedah_analytics.classify.base import SentimentClassifier
from kedah_analytics.classify.registry import build_classifier
from kedah_analytics.config.settings import Settings
from kedah_analytics.config.validate import ConfigurationError, classifier_problems
from kedah_analytics.warehouse.state import PgSentimentCache


class SentimentResource(dg.ConfigurableResource):
    """``offline`` (default: the shipped TF-IDF model, no download), ``lexicon`` (VADER plus the
    Malay lexicon), ``vader``, or ``gemini`` (KEDAH_GEMINI_API_KEY; batches, cached in
    kedah.sentiment_cache, offline fallback per failed batch)."""

    classifier: str = "offline"

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # Before any step writes: a wrong classifier fails the run once, clearly (never retried).
        problems = classifier_problems(self.classifier)
        if problems:
            raise ConfigurationError(problems)

    def get_classifier(self, cache_url: str | None = None) -> SentimentClassifier:
        """The classifier; Gemini results are cached in the warehouse at ``cache_url``."""
        if self.classifier.lower() == "offline":
            return _offline_model(*_model_file_stamp())
        return build_classifier(self.classifier, cache=PgSentimentCache(cache_url) if cache_url else None)


def _model_file_stamp() -> tuple[str, int]:
    from kedah_analytics.classify.offline import DEFAULT_MODEL_PATH

    return str(
        DEFAULT_MODEL_PATH
    ), DEFAULT_MODEL_PATH.stat().st_mtime_ns if DEFAULT_MODEL_PATH.exists() else 0


@functools.lru_cache(maxsize=1)
def _offline_model(path: str, mtime_ns: int) -> SentimentClassifier:
    """The offline model, loaded once per process and file version: it holds no per-run state (no
    telemetry, no cache), and an in-process backfill runs one run per platform, each of which paid
    about half a second to unpickle it."""
    return build_classifier("offline")


def sentiment_from_settings(settings: Settings) -> SentimentResource:
    return SentimentResource(classifier=settings.classifier)
