"""The Gemini classifier, driven through the real google-genai client over a mock HTTP transport.

Responses have the shape of the real ``models/{model}:generateContent`` REST answers: the JSON the
model wrote in ``candidates[0].content.parts[0].text``, token counts in ``usageMetadata``. Nothing
here touches the network.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx2
import pytest
from google.genai import types

from kedah_analytics.classify.base import Sentiment
from kedah_analytics.classify.gemini import (
    DEFAULT_MODEL,
    GeminiSentimentClassifier,
    InMemoryCache,
    cache_key,
    server_retry_delay,
)

API_KEY = "AIzaTEST-do-not-leak-0123456789"


class StubFallback:
    name = "offline-stub"
    version = "0"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def predict(self, texts):
        self.calls.append(list(texts))
        return [Sentiment("neutral", 0.0, 0.5) for _ in texts]


def generate_content_response(items: list[dict] | str, prompt_tokens: int = 120, answer_tokens: int = 40):
    text = items if isinstance(items, str) else json.dumps(items)
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": answer_tokens,
            "totalTokenCount": prompt_tokens + answer_tokens,
        },
        "modelVersion": DEFAULT_MODEL,
        "responseId": "mock-response",
    }


def error_response(code: int, status: str, message: str, details: list[dict] | None = None) -> dict:
    error: dict = {"code": code, "message": message, "status": status}
    if details is not None:
        error["details"] = details
    return {"error": error}


def posts_of(request: httpx2.Request) -> list[dict]:
    body = json.loads(request.content)
    return json.loads(body["contents"][0]["parts"][0]["text"])


def label_by_keyword(posts: list[dict]) -> list[dict]:
    """What a well-behaved model answers: one item per id, in reverse order to prove mapping by id."""
    out = []
    for post in reversed(posts):
        positive = "best" in post["text"]
        out.append(
            {
                "id": post["id"],
                "label": "positive" if positive else "negative",
                "score": 0.9 if positive else -0.7,
                "confidence": 0.95,
            }
        )
    return out


class Server:
    """A scripted generateContent endpoint: each request gets the next responder's answer."""

    def __init__(self, *responders: Callable[[httpx2.Request], httpx2.Response]):
        self.responders = list(responders)
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        responder = self.responders.pop(0) if len(self.responders) > 1 else self.responders[0]
        return responder(request)


def ok(request: httpx2.Request) -> httpx2.Response:
    return httpx2.Response(200, json=generate_content_response(label_by_keyword(posts_of(request))))


def classifier_for(server: Server, **kwargs) -> tuple[GeminiSentimentClassifier, StubFallback, list[float]]:
    sleeps: list[float] = []
    fallback = StubFallback()
    options = types.HttpOptions(client_args={"transport": httpx2.MockTransport(server)})
    kwargs.setdefault("cache", InMemoryCache())
    classifier = GeminiSentimentClassifier(
        API_KEY, fallback=fallback, http_options=options, sleep=sleeps.append, **kwargs
    )
    return classifier, fallback, sleeps


def test_batches_map_back_by_id_and_count_tokens():
    server = Server(ok)
    classifier, fallback, _ = classifier_for(server, batch_size=50)
    texts = [f"post {i} {'best' if i % 3 == 0 else 'teruk'}" for i in range(120)]

    results = classifier.classify(texts)

    assert len(server.requests) == 3
    assert [len(posts_of(r)) for r in server.requests] == [50, 50, 20]
    assert len(results) == 120
    for text, result in zip(texts, results, strict=True):
        assert result.classifier == "gemini"
        assert result.classifier_version == f"{DEFAULT_MODEL}+prompt1"
        assert result.sentiment.label == ("positive" if "best" in text else "negative")
    assert fallback.calls == []
    telemetry = classifier.telemetry()
    assert telemetry["api_calls"] == 3
    assert telemetry["prompt_tokens"] == 360
    assert telemetry["candidate_tokens"] == 120
    assert telemetry["cache_misses"] == 120
    assert telemetry["fallbacks"] == 0
    assert classifier.predict(texts[:2]) == [r.sentiment for r in results[:2]]


def test_request_asks_for_schema_bound_json_at_temperature_zero():
    server = Server(ok)
    classifier, _, _ = classifier_for(server)
    classifier.classify(["best!"])

    request = server.requests[0]
    assert request.url.path.endswith(f"models/{DEFAULT_MODEL}:generateContent")
    assert request.headers["x-goog-api-key"] == API_KEY  # a header, never the URL
    assert API_KEY not in str(request.url)
    config = json.loads(request.content)["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert config["temperature"] == 0
    schema = config["responseSchema"]
    assert schema["type"] == "ARRAY"
    item = schema["items"]
    assert item["properties"]["label"]["enum"] == ["positive", "neutral", "negative"]
    assert item["properties"]["score"]["minimum"] == -1.0
    assert item["properties"]["score"]["maximum"] == 1.0
    assert set(item["required"]) == {"id", "label", "score", "confidence"}


@pytest.mark.parametrize(
    "answer",
    [
        "this is not JSON",
        json.dumps([{"id": 0, "label": "very positive", "score": 0.9, "confidence": 0.9}]),
        json.dumps([{"id": 0, "label": "positive", "score": 1.7, "confidence": 0.9}]),
        json.dumps([{"id": 0, "label": "positive", "score": 0.5}]),
        json.dumps({"id": 0, "label": "positive", "score": 0.5, "confidence": 0.9}),
        json.dumps([{"id": 7, "label": "positive", "score": 0.5, "confidence": 0.9}]),  # never sent
    ],
    ids=["not-json", "bad-label", "score-out-of-range", "missing-field", "not-a-list", "unknown-id"],
)
def test_malformed_answer_falls_back_with_a_marker(answer):
    server = Server(lambda r: httpx2.Response(200, json=generate_content_response(answer)))
    classifier, fallback, sleeps = classifier_for(server)

    results = classifier.classify(["best", "teruk"])

    assert [r.classifier for r in results] == ["offline-stub", "offline-stub"]
    assert [r.classifier_version for r in results] == ["0", "0"]
    assert fallback.calls == [["best", "teruk"]]
    assert len(server.requests) == 1  # a malformed answer is not retried
    assert sleeps == []
    telemetry = classifier.telemetry()
    assert telemetry["fallbacks"] == 2
    assert telemetry["failed_batches"] == 1
    assert telemetry["errors"] == {"malformed_answer": 1}
    assert "malformed" in telemetry["last_error"]


def test_missing_or_repeated_ids_fall_back_post_by_post():
    def answer(request):
        items = label_by_keyword(posts_of(request))  # ids 2, 1, 0
        items = [i for i in items if i["id"] != 1] + [dict(items[0])]  # drop 1, repeat 2
        return httpx2.Response(200, json=generate_content_response(items))

    classifier, fallback, _ = classifier_for(Server(answer))
    results = classifier.classify(["best 0", "best 1", "best 2"])

    assert [r.classifier for r in results] == ["gemini", "offline-stub", "offline-stub"]
    assert fallback.calls == [["best 1", "best 2"]]


def test_429_waits_the_servers_retry_delay_then_succeeds():
    rate_limited = error_response(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_content_free_tier_requests",
                        "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                        "quotaDimensions": {"location": "global", "model": DEFAULT_MODEL},
                        "quotaValue": "15",
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {"description": "Learn more", "url": "https://ai.google.dev/gemini-api/docs/rate-limits"}
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"},
        ],
    )
    server = Server(lambda r: httpx2.Response(429, json=rate_limited), ok)
    classifier, fallback, sleeps = classifier_for(server)

    results = classifier.classify(["best", "teruk"])

    assert sleeps == [37.0]
    assert len(server.requests) == 2
    assert [r.classifier for r in results] == ["gemini", "gemini"]
    assert fallback.calls == []
    telemetry = classifier.telemetry()
    assert telemetry["api_calls"] == 2
    assert telemetry["retries"] == 1
    assert telemetry["rate_limit_waits"] == 1
    assert telemetry["rate_limit_wait_seconds"] == 37.0


def test_429_asking_for_longer_than_allowed_falls_back_without_waiting():
    daily = error_response(
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for requests per day.",
        [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "30000s"}],
    )
    server = Server(lambda r: httpx2.Response(429, json=daily))
    classifier, fallback, sleeps = classifier_for(server, max_rate_limit_wait=120)

    results = classifier.classify(["best"])

    assert sleeps == []
    assert len(server.requests) == 1
    assert results[0].classifier == "offline-stub"
    assert classifier.telemetry()["errors"] == {"http_429": 1}


def test_server_errors_are_retried_a_bounded_number_of_times():
    unavailable = error_response(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")
    server = Server(lambda r: httpx2.Response(503, json=unavailable))
    classifier, fallback, sleeps = classifier_for(
        server, max_attempts=4, backoff_initial=1.0, backoff_max=8.0
    )

    results = classifier.classify(["best", "teruk"])

    assert len(server.requests) == 4
    assert len(sleeps) == 3
    assert all(0 < s <= 8.0 + 1.0 for s in sleeps)  # exponential with up to 1 s of jitter
    assert [r.classifier for r in results] == ["offline-stub", "offline-stub"]
    assert classifier.telemetry()["errors"] == {"http_503": 1}


def test_server_error_then_success():
    unavailable = error_response(500, "INTERNAL", "An internal error has occurred.")
    server = Server(lambda r: httpx2.Response(500, json=unavailable), ok)
    classifier, fallback, sleeps = classifier_for(server)

    assert [r.classifier for r in classifier.classify(["best"])] == ["gemini"]
    assert len(sleeps) == 1
    assert fallback.calls == []


def test_bad_request_is_not_retried():
    bad = error_response(400, "INVALID_ARGUMENT", "Request contains an invalid argument.")
    server = Server(lambda r: httpx2.Response(400, json=bad))
    classifier, fallback, sleeps = classifier_for(server)

    assert classifier.classify(["best"])[0].classifier == "offline-stub"
    assert len(server.requests) == 1
    assert sleeps == []


def test_the_cache_means_a_post_is_paid_for_once():
    server = Server(ok)
    cache = InMemoryCache()
    classifier, _, _ = classifier_for(server, cache=cache, batch_size=10)
    texts = ["Langkawi best", "jalan teruk", "Langkawi best"]  # a repeat is sent once

    first = classifier.classify(texts)
    assert len(server.requests) == 1
    assert len(posts_of(server.requests[0])) == 2
    assert len(cache) == 2

    second = classifier.classify(texts)
    assert len(server.requests) == 1
    assert second == first
    telemetry = classifier.telemetry()
    assert telemetry["cache_hits"] == 3
    assert telemetry["cache_misses"] == 3

    # A second classifier sharing the cache (another run) pays nothing either.
    other, _, _ = classifier_for(server, cache=cache)
    other.classify(["jalan teruk"])
    assert len(server.requests) == 1


def test_cache_key_depends_on_text_and_classifier_version():
    key = cache_key("best", "gemini", "m+prompt1")
    assert len(key) == 64
    assert key == cache_key("best", "gemini", "m+prompt1")
    assert key != cache_key("best ", "gemini", "m+prompt1")
    assert key != cache_key("best", "gemini", "m+prompt2")
    cache_key("bad \udcff text", "gemini", "v")  # lone surrogates do not break hashing


def test_fallback_results_are_not_cached():
    server = Server(lambda r: httpx2.Response(200, json=generate_content_response("oops")), ok)
    cache = InMemoryCache()
    classifier, _, _ = classifier_for(server, cache=cache)

    assert classifier.classify(["best"])[0].classifier == "offline-stub"
    assert len(cache) == 0
    assert classifier.classify(["best"])[0].classifier == "gemini"


def test_blank_posts_are_not_sent():
    server = Server(ok)
    classifier, fallback, _ = classifier_for(server)

    results = classifier.classify(["", "   ", "best"])

    assert len(posts_of(server.requests[0])) == 1
    assert [r.classifier for r in results] == ["offline-stub", "offline-stub", "gemini"]
    assert classifier.telemetry()["fallbacks"] == 0


def test_the_api_key_never_shows(caplog):
    caplog.set_level(logging.DEBUG)

    def leaky(request):
        # A proxy error that echoes the request headers, key included.
        raise httpx2.ConnectError(f"proxy refused request with x-goog-api-key={API_KEY}", request=request)

    classifier, fallback, sleeps = classifier_for(Server(leaky), max_attempts=2)
    results = classifier.classify(["best"])

    assert results[0].classifier == "offline-stub"
    assert len(sleeps) == 1  # a transport error is retried
    telemetry = classifier.telemetry()
    assert "ConnectError" in telemetry["last_error"]
    assert API_KEY not in json.dumps(telemetry)
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(classifier)

    with pytest.raises(ValueError) as empty_key:
        GeminiSentimentClassifier("  ", fallback=fallback)
    assert "API key is empty" in str(empty_key.value)


def test_bad_credentials_stop_further_requests():
    forbidden = error_response(403, "PERMISSION_DENIED", "Method doesn't allow unregistered callers.")
    server = Server(lambda r: httpx2.Response(403, json=forbidden))
    classifier, fallback, _ = classifier_for(server, batch_size=2)

    results = classifier.classify(["best 1", "best 2", "best 3", "best 4", "best 5"])

    assert len(server.requests) == 1  # not one per batch
    assert {r.classifier for r in results} == {"offline-stub"}
    assert API_KEY not in json.dumps(classifier.telemetry())


def test_retry_delay_parsing():
    class Error(Exception):
        def __init__(self, details, headers=None):
            self.details = details
            self.response = type("R", (), {"headers": headers or {}})()

    retry_info = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.500s"}
    assert server_retry_delay(Error({"error": {"details": [retry_info]}})) == 1.5
    assert server_retry_delay(Error({"error": {"details": []}}, {"retry-after": "12"})) == 12.0
    assert server_retry_delay(Error({"error": {}})) is None
