"""A small JSON-over-HTTP client for the grid providers: timeouts, retries with backoff on 429/5xx, no silent failures.

Standard library only (urllib): the check function ships in a few megabytes, with no HTTP package of its own.
"""

from __future__ import annotations

import base64
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "greenai (carbon-aware training scheduler)"


class ProviderError(RuntimeError):
    """A grid source failed or answered something unusable; the caller falls back to the next source."""


class HttpStatusError(ProviderError):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class JsonHttp:
    def __init__(self, source: str, base_url: str, timeout_s: float = 5.0, retries: int = 2,
                 backoff_s: float = 0.5) -> None:
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s

    def get(self, path: str, *, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
            auth: tuple[str, str] | None = None) -> Any:
        """GET and parse JSON; retry 429/5xx and network errors, raise ProviderError naming the source otherwise."""
        url = f"{self.base_url}{path}" + (f"?{urllib.parse.urlencode(params)}" if params else "")
        sent = {"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})}
        if auth is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        last_error = "no attempt"
        for attempt in range(self.retries + 1):
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=sent), timeout=self.timeout_s) as reply:
                    body = reply.read()
            except urllib.error.HTTPError as exc:
                if exc.code not in RETRYABLE_STATUS:
                    raise HttpStatusError(f"{self.source}: HTTP {exc.code} for {path}", exc.code) from None
                last_error = f"HTTP {exc.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                last_error = f"{'Timeout' if isinstance(reason, TimeoutError | socket.timeout) else 'ConnectionError'}: {reason}"
            else:
                try:
                    return json.loads(body)
                except ValueError:
                    raise ProviderError(f"{self.source}: response to {path} is not JSON") from None
            if attempt < self.retries:
                time.sleep(self.backoff_s * (2**attempt))
        raise ProviderError(f"{self.source}: {path} failed after {self.retries + 1} attempts ({last_error})")
