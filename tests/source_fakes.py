"""Recorded-shape payloads served to the real client libraries, shared by the source tests and
the pipeline tests: a requests transport adapter that answers from tests/fixtures, a fake clock
and sleep, and a guard that fails any socket to a non-loopback address, so nothing here can
reach the network.
"""

from __future__ import annotations

import json
import socket
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.client import responses as REASONS
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import requests
from requests.adapters import BaseAdapter
from requests.cookies import RequestsCookieJar
from requests.structures import CaseInsensitiveDict

FIXTURES = Path(__file__).resolve().parent / "fixtures"
NOW = datetime(2026, 11, 20, 6, 0, 0, tzinfo=UTC)  # 14:00 in Kedah


def forbid_network(monkeypatch: pytest.MonkeyPatch) -> None:
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost") and not str(host).startswith("/"):
            raise AssertionError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host in ("127.0.0.1", "::1", "localhost", None):
            return real_getaddrinfo(host, *args, **kwargs)
        raise AssertionError(f"test tried to resolve a host name: {host!r}")

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


def isolate_sources(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tracking: str) -> None:
    """No real network, no credential from the developer's shell, and ``tracking`` as the
    tracking file."""
    from kedah_analytics.sources.registry import ENV_VARS

    forbid_network(monkeypatch)
    for name in [*ENV_VARS, "KEDAH_SOURCE_MODE"]:
        monkeypatch.delenv(name, raising=False)
    path = tmp_path / "tracking.yaml"
    path.write_text(tracking, encoding="utf-8")
    monkeypatch.setenv("KEDAH_TRACKING_FILE", str(path))


def fixture_text(relative: str) -> str:
    return (FIXTURES / relative).read_text(encoding="utf-8")


def fixture_json(relative: str) -> Any:
    return json.loads(fixture_text(relative))


@dataclass
class Reply:
    """One canned HTTP answer (or an exception to raise instead)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    raises: Exception | None = None
    cookies: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(
        cls, relative_or_obj: str | Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Reply:
        obj = fixture_json(relative_or_obj) if isinstance(relative_or_obj, str) else relative_or_obj
        return cls(
            status,
            json.dumps(obj).encode(),
            {"Content-Type": "application/json; charset=UTF-8", **(headers or {})},
        )

    @classmethod
    def text(cls, relative: str, content_type: str, status: int = 200, **kwargs: Any) -> Reply:
        return cls(status, fixture_text(relative).encode(), {"Content-Type": content_type}, **kwargs)


@dataclass
class Seen:
    method: str
    url: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]
    timeout: Any


class FixtureAdapter(BaseAdapter):
    """A requests transport that answers from queued fixtures, matched by path (and query)."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: list[tuple[str, Callable[[dict[str, str]], bool], list[Reply]]] = []
        self.seen: list[Seen] = []

    def add(
        self, path: str, *replies: Reply, when: Callable[[dict[str, str]], bool] | None = None
    ) -> FixtureAdapter:
        self.routes.append((path, when or (lambda _params: True), list(replies)))
        return self

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url)
        params = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.seen.append(
            Seen(
                request.method or "",
                request.url,
                parts.path,
                params,
                dict(request.headers),
                kwargs.get("timeout"),
            )
        )
        for path, when, replies in self.routes:
            if parts.path == path and when(params) and replies:
                reply = replies.pop(0)
                break
        else:
            raise AssertionError(f"no fixture left for {request.method} {parts.path} {sorted(params)}")
        if reply.raises is not None:
            raise reply.raises
        response = requests.Response()
        response.status_code = reply.status
        response.reason = REASONS.get(reply.status, "")
        response._content = reply.body
        response.headers = CaseInsensitiveDict(reply.headers)
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        jar = RequestsCookieJar()
        for name, value in reply.cookies.items():
            jar.set(name, value, domain=parts.hostname, path="/")
        response.cookies = jar
        response.connection = self  # type: ignore[attr-defined]
        return response

    def close(self) -> None:
        pass

    def calls(self, path_suffix: str) -> list[Seen]:
        return [s for s in self.seen if s.path.endswith(path_suffix)]

    def session(self) -> requests.Session:
        """The session a source would build (with default timeouts), on this transport."""
        from kedah_analytics.sources.common.retry import TimeoutSession

        s = TimeoutSession()
        s.mount("https://", self)
        s.mount("http://", self)
        return s


class FakeClock:
    def __init__(self, now: datetime = NOW):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self.now.timestamp()


class FakeSleep:
    """Records the waits instead of waiting; advances the fake clock by them."""

    def __init__(self, clock: FakeClock):
        self.clock = clock
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.now += timedelta(seconds=seconds)


def serve_pytrends(monkeypatch: pytest.MonkeyPatch, adapter: FixtureAdapter) -> None:
    """pytrends opens a fresh ``requests`` session per call: its ``requests`` name is the hook."""
    import pytrends.request

    def session() -> requests.Session:
        s = requests.Session()
        s.mount("https://", adapter)
        return s

    def get(url: str, **kwargs: Any) -> requests.Response:
        with session() as s:
            return s.get(url, **kwargs)

    shim = types.SimpleNamespace(session=session, get=get, exceptions=requests.exceptions)
    monkeypatch.setattr(pytrends.request, "requests", shim)
