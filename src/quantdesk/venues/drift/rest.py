"""HTTP requests against one or more equivalent hosts, with failover.

Each host has a "not before" time: a 429 sets it from ``Retry-After``, an
error from exponential backoff. A request goes to the first host that is
ready, starting with the last one that worked, so a rate-limited or broken
host is skipped while the others serve. Every 429, error and switch of
host is counted on the shared ``FeedHealth``. (The DLOB server and the data
API go through here; Solana JSON-RPC has its own client in ``venues.solana``.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from quantdesk.venues.base import VenueError
from quantdesk.venues.drift.backoff import backoff_s
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.retry_after import MAX_RETRY_AFTER_S, retry_after_s

__all__ = ["MAX_RETRY_AFTER_S", "HostsUnavailable", "HttpHosts", "retry_after_s"]


class HostsUnavailable(VenueError):
    pass


class HttpHosts:
    def __init__(
        self,
        urls: list[str],
        health: FeedHealth,
        *,
        name: str = "http",
        timeout_s: float = 10.0,
        backoff_initial_s: float = 0.5,
        backoff_max_s: float = 30.0,
        max_attempts: int = 6,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if not urls:
            raise ValueError(f"{name}: no URLs configured")
        self.urls = [u.rstrip("/") for u in urls]
        self.name = name
        self.health = health
        self.timeout_s = timeout_s
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.max_attempts = max_attempts
        self._sleep = sleep
        self._not_before = [0.0] * len(self.urls)
        self._failures = [0] * len(self.urls)
        self._current = 0
        self._client: httpx.AsyncClient | None = None

    @property
    def current_url(self) -> str:
        return self.urls[self._current]

    def _client_or_new(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False)
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _pick(self) -> tuple[int, float]:
        """The host to use next and how long to wait for it."""
        now = time.monotonic()
        n = len(self.urls)
        for k in range(n):
            i = (self._current + k) % n
            if self._not_before[i] <= now:
                return i, 0.0
        i = min(range(n), key=lambda j: self._not_before[j])
        return i, self._not_before[i] - now

    async def request(self, method: str, path: str = "", **kwargs: Any) -> httpx.Response:
        """A 2xx response, retrying across hosts; HostsUnavailable after max_attempts."""
        last = "no attempt made"
        for _ in range(self.max_attempts):
            i, wait = self._pick()
            if wait > 0:
                await self._sleep(wait)
            if i != self._current:
                self.health.failovers += 1
                self._current = i
            url = self.urls[i] + path
            host = httpx.URL(self.urls[i]).host
            self.health.hosts[host] = self.health.hosts.get(host, 0) + 1
            t0 = time.perf_counter()
            try:
                resp = await self._client_or_new().request(method, url, **kwargs)
            except httpx.HTTPError as exc:
                last = f"{self.name} {host}: {exc.__class__.__name__}"
                self._fail(i, last)
                continue
            self.health.rest_latency_ms = (time.perf_counter() - t0) * 1000
            if resp.status_code == 429:
                self.health.http_429 += 1
                delay = retry_after_s(resp.headers.get("retry-after"))
                if delay is None:
                    delay = backoff_s(self._failures[i], self.backoff_initial_s, self.backoff_max_s)
                self._not_before[i] = time.monotonic() + delay
                last = f"{self.name} {host}: rate limited (429), retry after {delay:.1f}s"
                self.health.last_error = last
                continue
            if resp.status_code >= 500:
                last = f"{self.name} {host}: HTTP {resp.status_code}"
                self._fail(i, last)
                continue
            if resp.status_code >= 400:
                # A client error is the same on every host: do not fail over, say what was refused.
                self.health.error(f"{self.name} {host}: HTTP {resp.status_code} for {path or '/'}")
                raise HostsUnavailable(f"{self.name} refused {path or '/'}: HTTP {resp.status_code}")
            self._failures[i] = 0
            return resp
        raise HostsUnavailable(f"{self.name} unavailable after {self.max_attempts} attempts ({last})")

    def _fail(self, i: int, message: str) -> None:
        self.health.error(message)
        delay = backoff_s(self._failures[i], self.backoff_initial_s, self.backoff_max_s)
        self._failures[i] += 1
        self._not_before[i] = time.monotonic() + delay

    async def get(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        return (await self.request("GET", path, params=params)).content

    async def post_json(self, path: str, body: bytes) -> bytes:
        headers = {"content-type": "application/json"}
        return (await self.request("POST", path, content=body, headers=headers)).content
