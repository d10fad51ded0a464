"""A small JSON-over-HTTP client for the grid providers: timeouts, retries with backoff on 429/5xx, no silent failures."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class ProviderError(RuntimeError):
    """A grid source failed or answered something unusable; the caller falls back to the next source."""


class HttpStatusError(ProviderError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class JsonHttp:
    def __init__(self, source: str, base_url: str, timeout_s: float = 5.0, retries: int = 2, backoff_s: float = 0.5,
                 session: requests.Session | None = None) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.session = session or requests.Session()

    def get(self, path: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            auth: tuple[str, str] | None = None) -> Any:
        """GET and parse JSON; retry 429/5xx and network errors, raise ProviderError naming the source otherwise."""
        url = f"{self.base_url}{path}"
        last_error = "no attempt"
        for attempt in range(self.retries + 1):
            try:
                response = self.session.get(url, params=params, timeout=self.timeout_s, auth=auth,
                                            headers={"Accept": "application/json", **(headers or {})})
            except requests.RequestException as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code in RETRYABLE_STATUS:
                    last_error = f"HTTP {response.status_code}"
                elif response.status_code != 200:
                    raise HttpStatusError(f"{self.source}: HTTP {response.status_code} for {path}", response.status_code)
                else:
                    try:
                        return response.json()
                    except ValueError:
                        raise ProviderError(f"{self.source}: response to {path} is not JSON") from None
            if attempt < self.retries:
                time.sleep(self.backoff_s * (2**attempt))
        raise ProviderError(f"{self.source}: {path} failed after {self.retries + 1} attempts ({last_error})")
