"""Sentiment from Gemini (google-genai 3.x), many posts per request, cached, with an offline fallback.

One request carries up to ``batch_size`` posts, each with a batch-local id; the answer is JSON
validated against :class:`PostSentiment` and mapped back by id. What Gemini cannot give (a batch
failing after its retries, a malformed answer, an id missing or repeated) comes from the fallback
classifier instead, and every result says which classifier produced it.

Retries are done here, not with google-genai's ``HttpRetryOptions``: in google-genai 3.4 those wait
``wait_exponential_jitter`` and ignore the ``RetryInfo.retryDelay`` a 429 carries. A 429 waits what
the server asks (or gives up for this run when it asks for more than ``max_rate_limit_wait``),
5xx, 408 and transport errors back off exponentially, other errors are not retried.

The API key is never logged and never appears in a message this module writes. The prompt, the
answer's schema and parsing and the telemetry are in :mod:`~kedah_analytics.classify.gemini_wire`,
the cache in :mod:`~kedah_analytics.classify.gemini_cache`.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

import tenacity
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from kedah_analytics.classify.base import AttributedSentiment, Sentiment, SentimentClassifier
from kedah_analytics.classify.gemini_cache import ClassificationCache, InMemoryCache, cache_key
from kedah_analytics.classify.gemini_wire import (
    DEFAULT_MODEL,
    MAX_POST_CHARS,
    PROMPT_VERSION,
    SYSTEM_INSTRUCTION,
    BatchError,
    GeminiTelemetry,
    PostSentiment,
    describe_error,
    malformed,
    parse_answer,
    server_retry_delay,
)
from kedah_analytics.classify.normalize import coerce_text, truncate
from kedah_analytics.transient import transient_transport_error

__all__ = [  # names other modules and tests read from here
    "DEFAULT_MODEL",
    "AttributedSentiment",
    "BatchError",
    "ClassificationCache",
    "GeminiSentimentClassifier",
    "GeminiTelemetry",
    "InMemoryCache",
    "PostSentiment",
    "cache_key",
    "server_retry_delay",
]

logger = logging.getLogger(__name__)

# ---------------------------------------------------------------------------------------------
# The classifier


class GeminiSentimentClassifier:
    """Sentiment by Gemini with structured JSON output, falling back to ``fallback`` per batch."""

    name = "gemini"

    def __init__(
        self,
        api_key: str,
        *,
        fallback: SentimentClassifier,
        cache: ClassificationCache | None = None,
        model: str = DEFAULT_MODEL,
        batch_size: int = 50,
        max_attempts: int = 5,
        max_rate_limit_wait: float = 120.0,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        timeout_seconds: float = 60.0,
        http_options: types.HttpOptions | None = None,
        client: genai.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_key or not api_key.strip():
            raise ValueError("the Gemini API key is empty (set GEMINI_API_KEY)")
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._api_key = api_key.strip()
        self.model = model
        self.version = f"{model}+prompt{PROMPT_VERSION}"
        self.batch_size = batch_size
        self.fallback = fallback
        self.cache: ClassificationCache = cache if cache is not None else InMemoryCache()
        self.max_attempts = max(1, max_attempts)
        self.max_rate_limit_wait = max_rate_limit_wait
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._telemetry = GeminiTelemetry()
        if client is None:
            options = http_options.model_copy() if http_options is not None else types.HttpOptions()
            if options.timeout is None:
                options.timeout = int(timeout_seconds * 1000)
            # Retries are ours (see the module docstring), so the SDK's stay off.
            options.retry_options = None
            client = genai.Client(api_key=self._api_key, http_options=options)
        self._client = client

    def __repr__(self) -> str:
        return f"GeminiSentimentClassifier(model={self.model!r}, batch_size={self.batch_size})"

    # -- public API ----------------------------------------------------------------------------

    def predict(self, texts: Sequence[str]) -> list[Sentiment]:
        return [post.sentiment for post in self.classify(texts)]

    def classify(self, texts: Sequence[str]) -> list[AttributedSentiment]:
        """Label ``texts`` in order: from the cache, else Gemini, else the fallback classifier."""
        results: list[AttributedSentiment | None] = [None] * len(texts)
        gemini = (self.name, self.version)

        keys = [cache_key(t, *gemini) for t in texts]
        # Empty posts cost nothing to label and are not worth a request.
        todo: dict[str, list[int]] = {}
        blank: list[int] = []
        for i, (text, key) in enumerate(zip(texts, keys, strict=True)):
            if not coerce_text(text).strip():
                blank.append(i)
            else:
                todo.setdefault(key, []).append(i)

        cached = self.cache.get_many(list(todo)) if todo else {}
        cached = {k: v for k, v in cached.items() if k in todo}
        self._telemetry.cache_hits += sum(len(todo[k]) for k in cached)
        for key, sentiment in cached.items():
            for i in todo.pop(key):
                results[i] = AttributedSentiment(sentiment, *gemini)
        self._telemetry.cache_misses += sum(len(v) for v in todo.values())

        fallback_indices: list[int] = list(blank)
        pending = list(todo.items())
        auth_failed = False
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start : start + self.batch_size]
            if auth_failed:
                fallback_indices.extend(i for _, idx in batch for i in idx)
                continue
            batch_texts = [texts[idx[0]] for _, idx in batch]
            try:
                labelled = self._label_batch(batch_texts)
            except BatchError as exc:
                labelled = {}
                self._record_failure(exc)
                auth_failed = exc.auth_failed
            new_items: dict[str, Sentiment] = {}
            for pos, (key, idx) in enumerate(batch):
                answered = labelled.get(pos)
                if answered is None:
                    fallback_indices.extend(idx)
                    continue
                new_items[key] = answered
                for i in idx:
                    results[i] = AttributedSentiment(answered, *gemini)
            if new_items:
                self.cache.put_many(new_items)
                self._telemetry.classified_by_gemini += sum(len(todo[k]) for k in new_items)

        if fallback_indices:
            fallback_indices.sort()
            fallback_sentiments = self.fallback.predict([texts[i] for i in fallback_indices])
            marker = (self.fallback.name, self.fallback.version)
            for i, sentiment in zip(fallback_indices, fallback_sentiments, strict=True):
                results[i] = AttributedSentiment(sentiment, *marker)
            self._telemetry.fallbacks += len(fallback_indices) - len(blank)
        return [r for r in results if r is not None]

    def telemetry(self) -> dict[str, Any]:
        """What this classifier has cost so far: API calls, tokens, cache hits, fallbacks."""
        return self._telemetry.as_dict()

    # -- internals -----------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "***") if self._api_key else text

    def _record_failure(self, exc: BatchError) -> None:
        self._telemetry.failed_batches += 1
        message = self._redact(str(exc))
        self._telemetry.last_error = message
        self._telemetry.errors[exc.kind] = self._telemetry.errors.get(exc.kind, 0) + 1
        logger.warning("Gemini batch fell back to %s: %s", self.fallback.name, message)

    def _prompt(self, texts: Sequence[str]) -> str:
        items = [{"id": i, "text": truncate(coerce_text(t), MAX_POST_CHARS)} for i, t in enumerate(texts)]
        return json.dumps(items, ensure_ascii=False)

    def _config(self) -> types.GenerateContentConfig:
        return types.GenerateContentConfig(
            system_instruction=SYSTEM_INSTRUCTION,
            response_mime_type="application/json",
            response_schema=list[PostSentiment],
            temperature=0,
        )

    def _retryable(self, exc: BaseException) -> bool:
        if isinstance(exc, genai_errors.ClientError):
            if exc.code == 429:
                delay = server_retry_delay(exc)
                return delay is None or delay <= self.max_rate_limit_wait
            return exc.code == 408
        if isinstance(exc, genai_errors.ServerError):
            return True
        return transient_transport_error(exc)

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, genai_errors.ClientError) and exc.code == 429:
            delay = server_retry_delay(exc)
            if delay is not None:
                self._telemetry.rate_limit_waits += 1
                self._telemetry.rate_limit_wait_seconds += delay
                return delay
        backoff = tenacity.wait_exponential_jitter(initial=self.backoff_initial, max=self.backoff_max)
        delay = backoff(state)
        if isinstance(exc, genai_errors.ClientError) and exc.code == 429:
            self._telemetry.rate_limit_waits += 1
            self._telemetry.rate_limit_wait_seconds += delay
        return delay

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        self._telemetry.retries += 1
        exc = state.outcome.exception() if state.outcome is not None else None
        logger.info(
            "Gemini request failed (%s), retrying in %.1f s",
            self._redact(describe_error(exc)),
            state.upcoming_sleep,
        )

    def _call(self, texts: Sequence[str]) -> types.GenerateContentResponse:
        def once() -> types.GenerateContentResponse:
            self._telemetry.api_calls += 1
            return self._client.models.generate_content(
                model=self.model, contents=self._prompt(texts), config=self._config()
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts),
            retry=tenacity.retry_if_exception(self._retryable),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        return retrying(once)

    def _label_batch(self, texts: Sequence[str]) -> dict[int, Sentiment]:
        """Labels by batch position; positions missing or repeated in the answer are left out."""
        self._telemetry.batches += 1
        try:
            response = self._call(texts)
        except genai_errors.APIError as exc:
            raise BatchError(
                f"Gemini API error: {describe_error(exc)}",
                kind=f"http_{exc.code}",
                auth_failed=exc.code in (401, 403),
            ) from None
        except Exception as exc:  # transport errors, timeouts
            raise BatchError(
                f"Gemini request failed: {describe_error(exc)}", kind=type(exc).__name__
            ) from None

        usage = response.usage_metadata
        if usage is not None:
            self._telemetry.prompt_tokens += usage.prompt_token_count or 0
            self._telemetry.candidate_tokens += usage.candidates_token_count or 0
            self._telemetry.thought_tokens += usage.thoughts_token_count or 0

        items = parse_answer(response)
        expected = set(range(len(texts)))
        seen: dict[int, int] = {}
        for item in items:
            seen[item.id] = seen.get(item.id, 0) + 1
        unknown = set(seen) - expected
        if unknown:
            # Ids that were never sent mean the answer cannot be trusted to map back.
            raise malformed(f"the answer holds ids that were not sent: {sorted(unknown)[:5]}")
        out: dict[int, Sentiment] = {}
        for item in items:
            if seen[item.id] == 1:
                out[item.id] = Sentiment(item.label, float(item.score), float(item.confidence))
        missing = len(expected) - len(out)
        if missing:
            self._telemetry.errors["ids_missing_or_repeated"] = (
                self._telemetry.errors.get("ids_missing_or_repeated", 0) + missing
            )
        return out
