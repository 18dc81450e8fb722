"""The requests session every requests-based source uses: a timeout on every call. Apart from
``retry`` so that the retry rules load without requests (the code location loads them)."""

from __future__ import annotations

from typing import Any

import requests

from kedah_analytics.sources.common.retry import DEFAULT_TIMEOUT


class TimeoutSession(requests.Session):
    """A requests session that gives every request a timeout unless the caller set one."""

    def __init__(self, timeout: float | tuple[float, float] = DEFAULT_TIMEOUT):
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)
