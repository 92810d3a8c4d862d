"""The Jupiter Perps venue: the JLP pool's markets as market data, and trading with a signer.

Markets fill at the oracle price against the pool (``kind`` pool). Market
data comes from ``market_data.JupiterFeed``; the watched wallet's positions
are published as ``Position`` events. With the top-level signer the watched
wallet is the signer's own (its collateral is read too, for the risk engine
and the Account pane), and its position requests are followed by a
``RequestFollower``; ``spec.trading`` then offers ``trading.JupiterTrading``.
Without one it stays read-only and says why. A trader served over SSH trades
the same venue through their own view of it (``trader_view``).
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from quantdesk.core.bus import Bus
from quantdesk.core.latency import LatencyHistogram
from quantdesk.core.model import Market, MarketKind
from quantdesk.venues.jupiter.config import JupiterConfig, JupiterMarket
from quantdesk.venues.base import VenueError
from quantdesk.venues.jupiter.market_data import JupiterFeed
from quantdesk.venues.jupiter.wallet_account import WalletAccount

if TYPE_CHECKING:
    from quantdesk.venues.jupiter.trader_view import JupiterTraderView

SIZE_PLACES = 4  # base sizes typed and shown to 0.0001 of the asset: positions are sized in USD anyway


def to_market(venue: str, m: JupiterMarket) -> Market:
    # no book: a tick of one micro-dollar; a lot of 0.0001 of the base asset
    lot = 10 ** max(0, m.size_decimals - SIZE_PLACES)
    return Market(venue=venue, symbol=m.symbol, base=m.base, quote="USD", kind="pool", tick_size=1, lot_size=lot,
                  size_decimals=m.size_decimals)


@dataclass(frozen=True)
class JupiterHealth:
    """The feed's counters, as the health pane reads them."""

    errors: int
    http_429: int
    reconnects: int
    failovers: int
    malformed: int
    out_of_order: int
    stale: int
    last_error: str
    rpc_latency_ms: float | None
    feed_lag_ms: float | None
    slot_lag: int | None = None
    rpc_latency: Mapping[str, LatencyHistogram] = field(default_factory=dict)  # RPC host -> round trips


class SignsRequests(ABC):
    """What the shared venue and a served trader's view of it trade with
    alike: a signer, the wallet account it trades from, and the follower of
    that wallet's position requests."""

    id: str
    cfg: JupiterConfig
    feed: JupiterFeed
    signer: Any
    signer_problem: str | None
    account: WalletAccount | None  # the trading wallet's
    follower: Any  # request_follower.RequestFollower while trading
    _clock: Callable[[], int]
    _sleep: Callable[[float], Awaitable[Any]]

    @property
    def can_trade(self) -> bool:
        return self.trading_unavailable_reason() is None

    def trading_unavailable_reason(self) -> str | None:
        if self.signer_problem:
            return self.signer_problem
        if self.signer is None:
            return (f"{self.id}: no signer configured; watching only. Set signer = \"keypair:PATH\" "
                    "(or ledger:, agent:) in the config to trade.")
        return None

    @abstractmethod
    def _publish(self, event: Any) -> None:
        """Where the trading wallet's positions and account state go."""

    def _request_follower(self, owner: str, account: WalletAccount) -> Any:
        from quantdesk.venues.jupiter.account_state import market_state
        from quantdesk.venues.jupiter.request_follower import RequestFollower

        feed = self.feed

        async def refresh_positions() -> None:  # a failure is noted: the order is settled already
            await account.poll_noted(feed, self._publish)

        return RequestFollower(
            self.id, owner, feed.rpc, feed.decoder, lambda s: market_state(feed, account, s),
            program_id=self.cfg.program_id, symbols={m.custody: m.symbol for m in self.cfg.markets},
            poll_s=self.cfg.request_poll_s, clock=self._clock, sleep=self._sleep, on_executed=refresh_positions,
            ready=lambda: account.loaded and feed.pool is not None,
        )

    async def _follow_requests(self, bus: Bus) -> None:
        cfg = self.cfg
        await self.follower.run(bus, list(cfg.ws_urls), commitment=cfg.commitment, backoff_initial_s=cfg.backoff_initial_s,
                                backoff_max_s=cfg.backoff_max_s, deadline_of=self.request_deadline)

    async def load_account(self) -> None:
        """Read the trading wallet's positions and balances now (VenueError if they cannot be)."""
        from quantdesk.venues.jupiter.accounts import AccountDecodeError
        from quantdesk.venues.solana.rpc import RpcError

        if self.account is None:
            return
        try:
            await self.account.poll(self.feed, self._publish)
        except (RpcError, AccountDecodeError) as exc:
            raise VenueError(f"{self.id}: the wallet could not be read ({exc}); check venues.{self.id}.rpc_urls") from None

    def request_deadline(self, open_time_s: int) -> int | None:
        """When a market request opened at ``open_time_s`` expires (the pool's maxRequestExecutionSec)."""
        pool = self.feed.pool
        if pool is None:
            return None
        from quantdesk.venues.jupiter.preview import EXPIRY_MARGIN_S

        return open_time_s + int(pool.max_request_execution_sec) + EXPIRY_MARGIN_S


class JupiterVenue(SignsRequests):
    kind: MarketKind = "pool"

    def __init__(
        self,
        cfg: JupiterConfig | None = None,
        *,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        signer: Any = None,
        signer_problem: str | None = None,
    ) -> None:
        cfg = cfg or JupiterConfig()
        self.signer = signer
        self.signer_problem = f"{cfg.id}: {signer_problem}" if signer_problem else None
        own = str(signer.pubkey) if signer is not None else None
        if own is not None and cfg.watch is None:
            cfg = cfg.model_copy(update={"watch": own})  # a trader watches their own wallet
        self.cfg = cfg
        self.id = cfg.id
        self.feed = JupiterFeed(cfg, clock=clock, sleep=sleep)
        self.account = self.feed.account  # the watched wallet's
        self.markets: list[Market] = []
        self._clock = clock
        self._sleep = sleep
        self.follower: Any = None  # request_follower.RequestFollower while trading
        if self.can_trade and self.account is not None:
            self.account.read_wallet = True
            self.follower = self._request_follower(str(signer.pubkey), self.account)

    def for_trader(self, signer: Any, signer_problem: str | None = None, bus: Bus | None = None) -> JupiterTraderView:
        """This venue as one trader ``quantdesk serve ssh`` serves trades it,
        signing with ``signer`` (theirs), never with this venue's own; their
        account's events go to ``bus`` (their console's)."""
        from quantdesk.venues.jupiter.trader_view import JupiterTraderView

        return JupiterTraderView(self, signer, signer_problem, bus)

    def trading_unavailable_reason(self) -> str | None:
        reason = super().trading_unavailable_reason()
        if reason is None and self.cfg.watch != str(self.signer.pubkey):
            return (f"{self.id}: venues.{self.id}.watch shows another wallet ({self.cfg.watch}); trading uses the "
                    "signer's own positions: remove watch to trade")
        return reason

    def _publish(self, event: Any) -> None:
        self.feed._publish(event)

    @property
    def health(self) -> JupiterHealth:
        f = self.feed
        ps = f.pubsub
        stale = sum(1 for st in f.markets.values() if st.stale)
        return JupiterHealth(
            errors=f.counters.rpc_errors + f.counters.bad_accounts,
            http_429=f.rpc.http_429,
            reconnects=ps.reconnects if ps else 0,
            failovers=f.rpc.failovers,
            malformed=(ps.malformed if ps else 0) + f.counters.bad_accounts,
            out_of_order=0,
            stale=stale,
            # the feed's trouble first; else what the request follower last could not do
            last_error=f.message if f.state != "connected" else (self.follower.last_error if self.follower else ""),
            rpc_latency_ms=f.rpc.latency_ms,
            rpc_latency=f.rpc.latency,
            feed_lag_ms=None,
        )

    async def connect(self) -> list[Market]:
        self.markets = [to_market(self.id, m) for m in self.cfg.markets]
        return list(self.markets)

    async def run(self, bus: Bus) -> None:
        if self.follower is None:
            await self.feed.run(bus)
            return
        feed = asyncio.create_task(self.feed.run(bus), name=f"{self.id}-feed")
        follow = asyncio.create_task(self._follow_requests(bus), name=f"{self.id}-requests")
        try:
            await asyncio.gather(feed, follow)
        finally:
            for t in (feed, follow):
                t.cancel()
            await asyncio.gather(feed, follow, return_exceptions=True)

    def request_resync(self, market: str) -> None:
        """Every market's snapshot is rebuilt on each account change; a gap needs nothing more."""
        st = self.feed.markets.get(market)
        if st is not None:
            self.feed.publish_market(market)

    async def close(self) -> None:
        await self.feed.close()
