"""Every configured news source, polled in the background into one board.

``NewsDesk`` owns one ``SourcePoller`` per source and one HTTP client. Each
source runs its own loop, so a feed that hangs holds up only itself. Every
outcome lands on the ``NewsBoard`` (``quantdesk.core.news``): new headlines,
tagged against the markets listed now, and the source's status (ok,
unchanged, rate limited, error and why, when it is polled next). Time comes
from the injected clock; the wait between polls from the injected ``sleep``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpx

from quantdesk.core.model import Market
from quantdesk.core.news import NewsBoard, SourceStatus
from quantdesk.news.poller import Deadline, NewsSource, PollOutcome, SourcePoller

log = logging.getLogger(__name__)

NS = 1_000_000_000
Sleep = Callable[[float], Awaitable[None]]


class NewsDesk:
    def __init__(
        self,
        board: NewsBoard,
        sources: Sequence[NewsSource],
        clock: Callable[[], int],
        *,
        markets: Callable[[], Iterable[Market]] = tuple,
        client: httpx.AsyncClient | None = None,
        sleep: Sleep = asyncio.sleep,
        deadline: Deadline = asyncio.timeout,
    ) -> None:
        self.board = board
        self.sources = list(sources)
        self.clock = clock
        self.markets = markets
        self.sleep = sleep
        self._own_client = client is None
        self.client = client if client is not None else httpx.AsyncClient(follow_redirects=True)
        self.pollers = {s.name: SourcePoller(s, self.client, deadline) for s in self.sources}
        self._tasks: list[asyncio.Task[None]] = []
        for s in self.sources:
            board.set_status(SourceStatus(s.name))

    def __repr__(self) -> str:
        return f"NewsDesk({[s.address for s in self.sources]!r})"

    # -- one poll -------------------------------------------------------------------
    async def poll(self, name: str) -> PollOutcome:
        """Poll one source now and put what it said on the board."""
        outcome = await self.pollers[name].poll_once()
        self._record(name, outcome)
        return outcome

    async def poll_all(self) -> list[PollOutcome]:
        """Every source once, side by side (``quantdesk show news``)."""
        return list(await asyncio.gather(*(self.poll(s.name) for s in self.sources)))

    def _record(self, name: str, outcome: PollOutcome) -> None:
        now = self.clock()
        board = self.board
        board.set_markets(self.markets())
        if outcome.headlines is not None:
            board.ingest(name, outcome.headlines, now)
        old = board.statuses.get(name) or SourceStatus(name)
        good = outcome.state in ("ok", "unchanged")
        board.set_status(
            SourceStatus(
                name,
                outcome.state,
                outcome.detail,
                last_ok_ns=now if good else old.last_ok_ns,
                next_ns=now + int(outcome.wait_s * NS),
                headlines=len(outcome.headlines) if outcome.headlines is not None else old.headlines,
            )
        )
        if outcome.state != old.state and not good:
            log.warning("news source %s: %s: %s", name, outcome.state, outcome.detail)

    # -- in the background --------------------------------------------------------------
    def start(self) -> None:
        if self._tasks:
            return
        for s in self.sources:
            self._tasks.append(asyncio.create_task(self._run(s.name), name=f"news:{s.name}"))

    async def _run(self, name: str) -> None:
        while True:
            try:
                outcome = await self.poll(name)
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug in one source must not stop the others, nor the screen
                log.exception("news source %s: polling failed", name)
                await self.sleep(self.pollers[name].source.poll_s)
                continue
            await self.sleep(outcome.wait_s)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._own_client:
            await self.client.aclose()
