"""Harness for the source tests: recorded-shape payloads served to the real client libraries.

requests-based clients (tweepy, the Graph API client, pytrends) get a transport adapter mounted on
their session that answers from tests/fixtures; googleapiclient gets HttpMockSequence. Any socket
to a non-loopback address fails the test, so nothing here can reach the network.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests
from source_fakes import (  # tests/ is on sys.path through tests/conftest.py
    NOW,
    FakeClock,
    FakeSleep,
    FixtureAdapter,
    Reply,
    Seen,
    fixture_json,
    fixture_text,
    forbid_network,
)

__all__ = ["NOW", "FakeClock", "FakeSleep", "FixtureAdapter", "Reply", "Seen"]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    forbid_network(monkeypatch)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleep(clock: FakeClock) -> FakeSleep:
    return FakeSleep(clock)


@pytest.fixture
def adapter() -> FixtureAdapter:
    return FixtureAdapter()


@pytest.fixture
def reply() -> type[Reply]:
    return Reply


@pytest.fixture
def load() -> Callable[[str], Any]:
    return fixture_json


@pytest.fixture
def load_text() -> Callable[[str], str]:
    return fixture_text


@pytest.fixture
def session(adapter: FixtureAdapter) -> requests.Session:
    """The session a source would build (with default timeouts), on the fixture transport."""
    return adapter.session()
