"""Polling one news source: conditional requests, backoff, ``Retry-After``.

Each poll sends the ``ETag`` and ``Last-Modified`` of the last full answer,
so an unchanged feed costs the server a 304. A 429 waits as long as the
server asks (and at least the poll interval); errors, timeouts and bodies
that are not feeds back off, doubling up to ``MAX_BACKOFF_S``, and the next
good answer resets them. The whole request, a body trickling in included,
must finish within the source's timeout; bodies are capped at ``MAX_BODY``.
Decoding runs in a worker thread so a large feed never holds up the screen.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx

from quantdesk.core.news import RawHeadline
from quantdesk.news.address import SourceAddress
from quantdesk.news.wire import FeedError, decode
from quantdesk.venues.retry_after import retry_after_s

if TYPE_CHECKING:
    from quantdesk.config.settings import NewsSourceSettings

log = logging.getLogger(__name__)

MAX_BODY = 5 << 20
MAX_BACKOFF_S = 900.0
USER_AGENT = "QuantDesk news (+https://github.com/quantdesk)"
ACCEPT = {
    "rss": "application/rss+xml, application/atom+xml, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5",
    "json": "application/json",
}


@dataclass(frozen=True, slots=True)
class NewsSource:
    """A configured source with its key resolved (``key_missing``: the named
    environment variable is not set)."""

    name: str
    kind: str  # rss | json ("atom" is read as rss)
    address: SourceAddress
    poll_s: float = 60.0
    timeout_s: float = 10.0
    key_env: str | None = None
    key_missing: bool = False

    @classmethod
    def from_settings(cls, s: NewsSourceSettings, environ: dict[str, str] | None = None) -> NewsSource:
        import os

        env = os.environ if environ is None else environ
        key = env.get(s.api_key_env) if s.api_key_env else None
        return cls(
            name=s.label,
            kind="json" if s.kind == "json" else "rss",
            address=SourceAddress(s.url, key, s.api_key_param),
            poll_s=s.poll_s,
            timeout_s=s.timeout_s,
            key_env=s.api_key_env,
            key_missing=bool(s.api_key_env) and not key,
        )


@dataclass(frozen=True, slots=True)
class PollOutcome:
    state: str  # ok | unchanged | rate limited | error
    wait_s: float  # until the next poll
    headlines: list[RawHeadline] | None = None  # None: nothing new to read (304, an error)
    detail: str = ""
    skipped: int = 0


Deadline = Callable[[float], AbstractAsyncContextManager[Any]]  # asyncio.timeout, or a test's manual one


@dataclass
class SourcePoller:
    source: NewsSource
    client: httpx.AsyncClient
    deadline: Deadline = asyncio.timeout
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    polls: int = field(default=0)

    def _backoff(self) -> float:
        self.failures += 1
        base = min(self.source.poll_s, 30.0)
        return min(base * 2 ** (self.failures - 1), max(self.source.poll_s, MAX_BACKOFF_S))

    def _fail(self, detail: str) -> PollOutcome:
        return PollOutcome("error", self._backoff(), detail=self.source.address.scrub(detail))

    async def poll_once(self) -> PollOutcome:
        """One request; never raises (but for cancellation)."""
        src = self.source
        self.polls += 1
        if src.key_missing:
            return PollOutcome("error", max(src.poll_s, MAX_BACKOFF_S),
                               detail=f"set the environment variable {src.key_env} to the API key, then restart")  # fmt: skip
        headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT.get(src.kind, "*/*")}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        try:
            async with self.deadline(src.timeout_s):
                status, resp_headers, body = await self._get(headers)
        except (TimeoutError, httpx.TimeoutException):
            return self._fail(f"no answer within {src.timeout_s:g} s; retrying later")
        except httpx.HTTPError as exc:
            return self._fail(f"could not reach {src.address.shown} ({type(exc).__name__}: {exc})")
        except _TooLarge:
            return self._fail(f"the answer is larger than {MAX_BODY >> 20} MB; check the URL is a feed")
        if status == 304:
            self.failures = 0
            return PollOutcome("unchanged", src.poll_s)
        if status == 429:
            asked = retry_after_s(resp_headers.get("retry-after"))
            backoff = self._backoff()
            wait = max(asked if asked is not None else backoff, src.poll_s)
            return PollOutcome("rate limited", wait, detail=f"the server asked to wait {wait:g} s (HTTP 429)")
        if status in (401, 403):
            hint = f"check the key in {src.key_env}" if src.key_env else "it may need an API key (api_key_env)"
            return self._fail(f"the server refused the request (HTTP {status}); {hint}")
        if status >= 400:
            return self._fail(f"the server answered HTTP {status}; retrying later")
        try:
            decoded = await asyncio.to_thread(decode, src.kind, body)
        except FeedError as exc:
            return self._fail(str(exc))
        self.failures = 0
        self.etag = resp_headers.get("etag") or None
        self.last_modified = resp_headers.get("last-modified") or None
        detail = f"{decoded.skipped} entries unreadable" if decoded.skipped else ""
        return PollOutcome("ok", src.poll_s, decoded.headlines, detail, decoded.skipped)

    async def _get(self, headers: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        async with self.client.stream("GET", self.source.address.request_url(), headers=headers,
                                      timeout=self.source.timeout_s) as resp:  # fmt: skip
            if resp.status_code != 200:
                return resp.status_code, resp.headers, b""
            chunks: list[bytes] = []
            size = 0
            async for chunk in resp.aiter_bytes():
                size += len(chunk)
                if size > MAX_BODY:
                    raise _TooLarge
                chunks.append(chunk)
            return resp.status_code, resp.headers, b"".join(chunks)


class _TooLarge(Exception):
    pass
