"""The Drift-v2 engine venue: ``drift`` or ``velocity`` behind one adapter.

Market data comes from the deployment's public DLOB server and data API
(``market_data.DlobFeed``). On connect the deployment's markets are read
from chain (``discovery``): the watchlist is streamed from the start and any
other listed market is streamed once asked for (``follow``). With ``watch`` set to an authority, that wallet's
positions and margin are polled from chain (``account_view``). Trading needs
the program IDL and a signer and is built with driftpy (``execution``); a
deployment without them is watch-only and ``place`` says why.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from quantdesk.core.bus import Bus
from quantdesk.core.model import Candle, Market, MarketKind, Order, OrderIntent
from quantdesk.venues.base import TradingUnavailable, VenueError
from quantdesk.venues.drift.candles import DataApiCandles
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID, DriftDeployment, MarketSpec, default_deployment
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.market_data import DlobFeed
from quantdesk.venues.timers import LOOP_TIMERS, Timers
from quantdesk.venues.trader_view import TraderView

log = logging.getLogger(__name__)


def to_market(venue: str, quote: str, spec: Any) -> Market:
    return Market(
        venue=venue,
        symbol=spec.symbol,
        base=spec.base,
        quote=quote,
        kind="clob",
        tick_size=spec.tick_size,
        lot_size=spec.lot_size,
        index=spec.index,
    )


class _SignsOrders:
    """What the shared venue and a served trader's view of it trade with
    alike: a signer, the executor built for it on first use, and the order
    follower the orders just sent are handed to."""

    id: str
    deployment: DriftDeployment
    feed: DlobFeed
    signer: Any
    signer_problem: str | None
    executor: Any  # execution.DriftExecutor, built on first use when None
    follower: Any  # order_follower.OrderFollower while orders are followed
    _clock: Callable[[], int]

    def trading_unavailable_reason(self) -> str | None:
        return _unavailable(self.deployment, self.signer, self.signer_problem, self.executor)

    def _executor(self) -> Any:
        reason = self.trading_unavailable_reason()
        if reason:
            raise TradingUnavailable(reason)
        if self.executor is None:
            self.executor = _new_executor(self.deployment, self.signer, self.feed.rpc, self._clock)
        return self.executor

    def _order_follower(self, ex: Any, health: FeedHealth) -> Any:
        from quantdesk.venues.drift.order_follower import OrderFollower

        return OrderFollower(self.id, ex, {m.index: m.symbol for m in self.deployment.listed}, health,
                             clock=self._clock)

    def order_sent(self, order_ids: list[str]) -> None:
        """Orders just sent in one transaction (entry first): followed from now on."""
        if self.follower is not None:
            self.follower.sent(order_ids)


class DriftVenue(_SignsOrders):
    kind: MarketKind = "clob"

    def __init__(
        self,
        deployment: DriftDeployment | str = "drift",
        *,
        signer: Any = None,
        signer_problem: str | None = None,
        executor: Any = None,
        watch: str | None = None,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        timers: Timers = LOOP_TIMERS,
    ) -> None:
        sleep = sleep or timers.sleep
        self.deployment = default_deployment(deployment) if isinstance(deployment, str) else deployment
        self.id = self.deployment.id
        self.health = FeedHealth()
        self.feed = DlobFeed(self.deployment, self.health, clock=clock, sleep=sleep, timers=timers)
        self.chart_candles = DataApiCandles(self.deployment, self.feed.data_api, self.health, sleep=sleep)
        d = self.deployment
        self.signer_problem = f"{self.id}: {signer_problem}" if signer_problem else None
        self.signer = signer
        self.executor = executor  # execution.DriftExecutor, built on first use when None
        # Whose positions to show: the given or configured wallet, else the trader's own.
        self.watch = watch or d.watch or (str(signer.pubkey) if signer is not None else None)
        self.account_view: Any = None
        self.follower: Any = None  # order_follower.OrderFollower while running with a signer
        self._clock = clock
        self._sleep = sleep
        self.markets: list[Market] = []
        self._listing_read = False

    @property
    def can_trade(self) -> bool:
        return self.trading_unavailable_reason() is None

    def for_trader(self, signer: Any, signer_problem: str | None = None) -> DriftTraderView:
        """This venue as one trader ``quantdesk serve ssh`` serves trades it,
        signing with ``signer`` (theirs), never with this venue's own."""
        return DriftTraderView(self, signer, signer_problem)

    async def connect(self) -> list[Market]:
        """The watchlist's markets, from the listing on chain when it can be read."""
        for note in self.deployment.deprecations():
            log.warning(note)
        if self.deployment.discover_markets:
            await self._read_listing()
        for problem in self.deployment.market_list.problems:
            log.warning(problem)
            self.health.last_error = problem
        self.feed.set_markets(self.deployment.watched)
        self.markets = [to_market(self.id, self.deployment.quote, m) for m in self.deployment.watched]
        return list(self.markets)

    async def _read_listing(self) -> None:
        """Take the listing on chain, once (a deployment without an IDL cannot read it)."""
        if self._listing_read or not self.deployment.has_idl:
            return
        self._listing_read = True
        listing = await self._discover()
        if listing:
            self._use(self.deployment.with_listing(listing))

    async def _discover(self) -> list[MarketSpec]:
        """Every tradable perp market the program lists; [] when the chain cannot be read."""
        from quantdesk.venues.drift.discovery import discover
        from quantdesk.venues.drift.idl import IdlError, decoder_for
        from quantdesk.venues.drift.market_list import from_listing

        d = self.deployment
        try:
            async with asyncio.timeout(d.http_timeout_s):
                listed, problems = await discover(self.feed.rpc, d.program_id, decoder_for(d))
        except (VenueError, IdlError, TimeoutError) as exc:
            why = str(exc) or "no answer in time"
            self.health.error(f"{self.id}: cannot list the markets on chain ({why}); using the watchlist's known markets")
            return []
        for problem in problems[:3]:  # an account that does not decode: counted, not fatal
            log.warning("%s: market account skipped: %s", self.id, problem)
        self.health.malformed += len(problems)
        found = from_listing(listed)
        if not found:
            self.health.error(f"{self.id}: the program lists no perp market on chain; check program_id and rpc_urls")
        return found

    def _use(self, deployment: DriftDeployment) -> None:
        self.deployment = deployment
        self.feed.deployment = deployment
        self.chart_candles.deployment = deployment

    def listed_markets(self) -> list[Market]:
        """Every market the deployment lists, streamed or not (the command line accepts any)."""
        return [to_market(self.id, self.deployment.quote, m) for m in self.deployment.listed]

    async def follow(self, symbol: str) -> Market | None:
        """Stream a listed market that is not on the watchlist; None if it is not listed."""
        spec = self.deployment.market(symbol)
        if spec is None and not self.deployment.market_list.from_chain:
            await self._read_listing()  # not read at start (off, or it failed then): read it now
            spec = self.deployment.market(symbol)
        if spec is None:
            return None
        await self.feed.follow(spec)
        if self.account_view is not None:
            self.account_view.by_index.setdefault(spec.index, spec.symbol)
        market = to_market(self.id, self.deployment.quote, spec)
        if market not in self.markets:
            self.markets.append(market)
        return market

    def _start_follower(self, bus: Bus) -> asyncio.Task | None:
        """Follow the trader's own orders live, if this venue trades."""
        if not self.can_trade:
            return None
        try:
            ex = self._executor()
        except VenueError as exc:
            self.health.error(str(exc))
            return None
        self.follower = self._order_follower(ex, self.health)
        return asyncio.create_task(
            self.follower.follow(bus, self.feed, self.deployment, self._sleep), name=f"{self.id}-orders"
        )

    async def run(self, bus: Bus) -> None:
        tasks = [asyncio.create_task(self.feed.run(bus), name=f"{self.id}-feed")]
        follower = self._start_follower(bus)
        if follower is not None:
            tasks.append(follower)
        if self.watch:
            from quantdesk.venues.drift.account_view import DriftAccountView

            try:
                self.account_view = DriftAccountView(
                    self.deployment, self.feed.rpc, self.watch, sub_account_id=self.deployment.sub_account_id,
                    market_events=frozenset({"oi"}), clock=self._clock, sleep=self._sleep,
                )
            except VenueError as exc:  # a bad watch address or a deployment driftpy cannot read
                self.health.error(str(exc))
            else:
                tasks.append(
                    asyncio.create_task(self.account_view.run(bus, self.deployment.account_poll_s), name=f"{self.id}-account")
                )
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def request_resync(self, market: str) -> None:
        self.feed.request_resync(market)

    # -- chart candles (the data API) --------------------------------------------
    async def candles(self, market: str, timeframe: str, limit: int | None = None) -> list[Candle]:
        return await self.chart_candles.history(market, timeframe, limit)

    async def stream_candles(
        self, market: str, timeframe: str, publish: Callable[[Candle], None], on_state: Callable[[str, str], None]
    ) -> None:
        await self.chart_candles.stream(market, timeframe, publish, on_state)

    async def close(self) -> None:
        await self.feed.close()

    # -- trading ---------------------------------------------------------------
    async def place(self, intent: OrderIntent, order_id: str) -> Order:
        return await self._executor().place(intent, order_id)

    async def cancel(self, order_id: str) -> None:
        await self._executor().cancel(order_id)

    async def cancel_all(self, market: str | None = None) -> None:
        await self._executor().cancel_all(market)

    async def modify(self, order_id: str, *, price: int | None = None, size: int | None = None) -> Order:
        return await self._executor().modify(order_id, price=price, size=size)


def _unavailable(deployment: DriftDeployment, signer: Any, signer_problem: str | None, executor: Any) -> str | None:
    """Why a deployment cannot trade with ``signer`` (None: it can)."""
    reason = deployment.read_only_reason()
    if reason:
        return reason
    if signer_problem:
        return signer_problem
    if signer is None:
        return f"{deployment.id}: no signer configured; watching only. Set signer = \"keypair:PATH\" (or agent:SOCKET) in the config to trade."
    if executor is None and deployment.program_id != DRIFT_PROGRAM_ID:
        return f"{deployment.id}: orders are built with driftpy, which supports only the Drift deployment"
    return None


def _new_executor(deployment: DriftDeployment, signer: Any, rpc: Any, clock: Callable[[], int]) -> Any:
    from quantdesk.venues.drift.execution import DriftExecutor

    d = deployment
    return DriftExecutor(
        d, signer, rpc, sub_account_id=d.sub_account_id, compute_units=d.compute_units,
        priority_fee_micro_lamports=d.priority_fee_micro_lamports,
        allow_durable_nonce=d.allow_durable_nonce, allowed_programs=d.allowed_programs, dry_run=d.dry_run,
        clock=clock,
    )


class DriftTraderView(TraderView, _SignsOrders):  # type: ignore[override]  # the venue's feed and clock, read-only here
    """A shared ``DriftVenue`` as one served trader trades it: the venue's
    deployment, listing and RPC, the trader's own signer, executor and User
    account. The venue's market data serves every trader. While their console
    follows the account (``follow_account``) their positions and margin are
    polled from chain and their orders followed live (their User account over
    websocket, their fills from the venue's shared fill records), onto their
    own console's bus only."""

    def __init__(self, venue: DriftVenue, signer: Any, signer_problem: str | None = None) -> None:
        super().__init__(venue, signer, signer_problem)
        self.executor: Any = None  # execution.DriftExecutor, built on first use
        self.account_view: Any = None  # account_view.DriftAccountView while followed
        self.follower: Any = None  # order_follower.OrderFollower while followed

    def _following(self, bus: Bus, pubkey: str) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        """The trader's account polled, their orders followed."""
        from quantdesk.venues.drift.account_view import DriftAccountView

        d = self.deployment
        self.account_view = DriftAccountView(
            d, self.venue.feed.rpc, pubkey, sub_account_id=d.sub_account_id, market_events=frozenset(),
            clock=self.venue._clock, sleep=self.venue._sleep,
        )
        return [("account", self.account_view.run(bus, d.account_poll_s)), ("orders", self._follow_orders(bus))]

    async def _follow_orders(self, bus: Bus) -> None:
        """The trader's orders and fills, live, until cancelled; their account's
        websocket problems are theirs, not the shared venue's."""
        try:
            ex = self._executor()
        except VenueError as exc:
            log.warning("%s: a served trader's orders are not followed: %s", self.id, exc)
            return
        self.follower = self._order_follower(ex, FeedHealth())
        try:
            await self.follower.follow(bus, self.feed, self.deployment, self.venue._sleep)
        finally:
            self.follower = None

    # Read from the shared venue each time, as its feed and clock are (``TraderView``): its listing grows once discovered.
    @property
    def deployment(self) -> DriftDeployment:  # type: ignore[override]  # the venue's, read-only here
        return self.venue.deployment

