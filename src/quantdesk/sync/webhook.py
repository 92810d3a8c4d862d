"""Fired alerts posted to a team chat through an incoming webhook.

The body is JSON with the message under both ``text`` (what Slack's incoming
webhooks read) and ``content`` (what Discord's read), so one URL of either
works. Deliveries wait in a bounded queue and one background task sends them
in order: a slow, failing or hanging server never holds up the terminal. A
5xx answer, a 429, a timeout or a lost connection is retried with
exponential backoff (a 429's Retry-After is honoured); any other 4xx means
the URL is wrong and is not retried.

The URL is a secret (whoever holds it can post to the channel): the repr,
the log and every error name only its scheme and host.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import msgspec

from quantdesk.venues.timers import LOOP_TIMERS, Timers

if TYPE_CHECKING:
    import aiohttp

log = logging.getLogger(__name__)

MAX_TEXT = 1900  # Discord refuses content over 2000 characters
QUEUE_SIZE = 100
MAX_BACKOFF_S = 60.0


class WebhookBody(msgspec.Struct, frozen=True):
    text: str  # Slack
    content: str  # Discord


def redact_webhook(url: str) -> str:
    """``https://hooks.slack.com/…``: enough to tell which service, nothing to post with."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}/…" if parts.scheme else "…"


class WebhookSender:
    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 4,
        backoff_s: float = 1.0,
        timers: Timers = LOOP_TIMERS,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self._url = url
        self.shown = redact_webhook(url)
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.timers = timers
        self._queue: deque[str] = deque(maxlen=queue_size)
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._encoder = msgspec.json.Encoder()
        self.delivered = 0
        self.failed = 0
        self.dropped = 0
        self.attempts = 0
        self.last_error = ""

    def __repr__(self) -> str:
        return f"WebhookSender({self.shown!r}, queued={len(self._queue)})"

    @property
    def queued(self) -> int:
        return len(self._queue)

    # -- the queue ---------------------------------------------------------------
    def send(self, text: str) -> None:
        """Queue ``text`` for delivery and return at once (call from the loop's thread)."""
        if len(self._queue) == self._queue.maxlen:
            self.dropped += 1
            log.warning("alert webhook %s: %d messages waiting; dropped the oldest", self.shown, len(self._queue))
        self._queue.append(text[:MAX_TEXT])
        if self._wake is not None:
            self._wake.set()

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            if self._queue:
                self._wake.set()
            self._task = asyncio.create_task(self._run(), name="alert-webhook")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if self._queue:
            log.warning("alert webhook %s: %d messages not sent before closing", self.shown, len(self._queue))
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                text = self._queue[0]
                ok = await self.deliver(text)
                if self._queue and self._queue[0] is text:
                    self._queue.popleft()
                if ok:
                    self.delivered += 1
                else:
                    self.failed += 1

    # -- one delivery --------------------------------------------------------------
    async def deliver(self, text: str) -> bool:
        """Post one message, retrying as the server's answer allows; True once accepted."""
        body = self._encoder.encode(WebhookBody(text, text))
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            if attempt:
                await self.timers.sleep(delay)
                delay = min(delay * 2, MAX_BACKOFF_S)
            self.attempts += 1
            status, retry_after = await self._post(body)
            if status is not None and 200 <= status < 300:
                self.last_error = ""
                return True
            if status is not None and 400 <= status < 500 and status != 429:
                self.last_error = f"refused with HTTP {status}"
                log.warning("alert webhook %s refused the message (HTTP %d): check [alerts.webhook] url", self.shown, status)
                return False
            if retry_after is not None:
                delay = min(max(retry_after, delay), MAX_BACKOFF_S)
        log.warning("alert webhook %s: gave up after %d attempts (%s)", self.shown, self.retries + 1, self.last_error)
        return False

    async def _post(self, body: bytes) -> tuple[int | None, float | None]:
        """(HTTP status or None when no answer came, Retry-After seconds or None)."""
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers={"Content-Type": "application/json"})
        try:
            async with self.timers.timeout(self.timeout_s):
                async with self._session.post(self._url, data=body, allow_redirects=False) as resp:
                    await resp.read()
                    self.last_error = f"HTTP {resp.status}"
                    return resp.status, _retry_after(resp.headers.get("Retry-After"))
        except TimeoutError:
            self.last_error = f"no answer within {self.timeout_s:g} s"
        except aiohttp.ClientError as exc:
            # The exception's text may hold the URL: name only what kind of failure it was.
            self.last_error = f"could not reach {urlsplit(self._url).hostname or 'the server'} ({type(exc).__name__})"
        return None, None


def _retry_after(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to the backoff
