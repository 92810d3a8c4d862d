"""The one venue interface, and the types the order router shares with adapters.

A venue is two things, kept apart because most venues are only the first:

- ``Venue``: market data. ``connect`` lists the markets it streams, ``run`` publishes
  normalized events on the bus until cancelled, ``request_resync`` asks for a
  fresh snapshot after a gap, ``close`` lets go; ``health`` is the feed's
  counters for the health pane, or None for a venue that keeps none.
- ``TradingVenue``: the optional trading capability the ``OrderRouter`` talks
  to: place (with attached take-profit / stop-loss), cancel, cancel all
  (optionally keeping protective stops), modify, the open orders, what the
  risk engine needs to know (``risk_context``), the account view
  (``account_events``), and ``restore`` from the journal. A venue whose orders are signed transactions
  also has ``approve`` (``ApprovesTransactions``): asked with the decoded
  preview before anything is signed.

A venue that plays a recording back is also a ``Playback``: pause, step,
speed and where it is, for the console's replay keys.

Trading methods may answer directly or with an awaitable: the paper engine of
the simulated venues is synchronous and deterministic, live venues are async.
The router awaits whatever needs awaiting.

Nothing here does I/O; adapters implement these Protocols structurally.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from quantdesk.core.book import OrderBook
from quantdesk.core.bus import Bus
from quantdesk.core.model import AccountState, Candle, Fill, Market, MarketKind, Order, OrderIntent, Position


class VenueError(Exception):
    """A venue refused or could not be reached; the message is for the trader."""


class TradingUnavailable(VenueError):
    """This venue cannot trade here (no signer, no IDL...); the message says how to fix it."""


class Declined(VenueError):
    """The trader refused the transaction at the preview."""


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the risk engine needs to know at the moment of the check."""

    ts: int  # ns; the orders-per-second window is measured on it
    oracle_price: int
    best_bid: int | None = None
    best_ask: int | None = None
    position_base: int = 0  # signed, this market
    open_orders: int = 0  # resting orders on the account
    equity: int = 0  # collateral + unrealized PnL, quote
    account_notional: int = 0  # all positions at their oracle prices, quote (this market included)
    size_decimals: int = 9
    price_decimals: int = 6
    open_bids: int = 0  # base of resting buy orders in this market (not reduce-only)
    open_asks: int = 0  # base of resting sell orders in this market (not reduce-only)
    book: OrderBook | None = None  # the market's book, walked to value market orders
    data_age_ns: int | None = None  # since the market's data last changed; None: unknown
    tick_size: int = 1  # price units; protective limits are rounded to it


class HealthView(Protocol):
    """A live venue's feed and RPC counters, read by the health pane (read-only:
    a venue may hand out a frozen snapshot)."""

    @property
    def errors(self) -> int: ...

    @property
    def http_429(self) -> int: ...

    @property
    def reconnects(self) -> int: ...

    @property
    def failovers(self) -> int: ...

    @property
    def malformed(self) -> int: ...

    @property
    def out_of_order(self) -> int: ...

    @property
    def stale(self) -> int: ...

    @property
    def last_error(self) -> str: ...

    @property
    def rpc_latency_ms(self) -> float | None: ...

    @property
    def feed_lag_ms(self) -> float | None: ...

    @property
    def slot_lag(self) -> int | None: ...


@runtime_checkable
class Venue(Protocol):
    """Market data from one venue: simulated, replayed or live."""

    id: str

    @property
    def kind(self) -> MarketKind:
        """``clob`` (an order book) or ``pool`` (fills at an oracle price)."""

    @property
    def health(self) -> HealthView | None:
        """Feed counters for the health pane; None for a venue that keeps none."""

    async def connect(self) -> list[Market]:
        """Open connections and return the markets this venue lists."""

    async def run(self, bus: Bus) -> None:
        """Publish normalized events on ``bus`` until cancelled. Publishes a
        full ``BookSnapshot`` per market first, and again after any reconnect."""

    def request_resync(self, market: str) -> None:
        """Ask for a fresh snapshot of ``market`` (after a sequence gap)."""

    async def close(self) -> None: ...


@runtime_checkable
class CandleSource(Protocol):
    """A venue with its own candle service (Drift's data API). Every other
    venue's bars are built from its trades in the cache (``core/candles.py``)."""

    async def candles(self, market: str, timeframe: str, limit: int | None = None) -> list[Candle]:
        """The newest bars of ``market`` (``limit``, else the venue's default), oldest
        first; ``VenueError`` with a sentence for the trader when they cannot be had."""

    async def stream_candles(
        self, market: str, timeframe: str, publish: Callable[[Candle], None], on_state: Callable[[str, str], None]
    ) -> None:
        """Publish the bars so far, then every update of the forming bar, until
        cancelled; reconnect by itself. ``on_state(state, message)`` says how it
        goes: ``loading``, ``live`` or ``down`` (with why, for the chart)."""


@runtime_checkable
class FollowsMarkets(Protocol):
    """A venue that lists more markets than it streams from the start (Drift
    lists every market on chain and streams the trader's watchlist): any
    listed market can be streamed once asked for."""

    def listed_markets(self) -> list[Market]:
        """Every market the venue lists, streamed or not (after ``connect``)."""

    async def follow(self, symbol: str) -> Market | None:
        """Start streaming ``symbol``; its market, or None if the venue does not list it."""


@runtime_checkable
class Steppable(Protocol):
    """A venue that can be driven event by event, deterministically (the
    simulated venues): ``Session.advance`` steps it in tests and replays."""

    @property
    def kind(self) -> MarketKind: ...

    def bind(self, bus: Bus) -> None:
        """Publish on ``bus`` from now on, without ``run`` having started."""

    def advance(self, n: int) -> int:
        """Emit ``n`` events now; returns how many were emitted."""


@dataclass(frozen=True, slots=True)
class PlaybackProgress:
    """Where a replay is: for the status bar and for headless queries."""

    played: int  # events published so far
    total: int  # events the recording holds (up to a cut)
    position_ns: int  # the recorded receive time of the last event published
    speed: float  # times recorded time; 0: as fast as the machine goes
    paused: bool
    finished: bool  # nothing more will be published
    ended: str = ""  # once finished: where and why it stopped, for the trader
    cut: bool = False  # it stopped before the recording's end: cut short, damaged or a part missing


@runtime_checkable
class Playback(Protocol):
    """A venue that plays a recording back (``quantdesk replay``): the console's
    replay keys pause, step and change its speed. Its clock is the recorded
    time of the last event it published, so a screen drawn after event N is
    the same on every run."""

    def progress(self) -> PlaybackProgress: ...

    def pause(self) -> None: ...

    def resume(self) -> None: ...

    def set_speed(self, speed: float) -> None:
        """Play at ``speed`` times recorded time (kept within the venue's bounds)."""

    def step(self, n: int = 1) -> int:
        """Pause and publish the next ``n`` events now; returns how many were published."""


@runtime_checkable
class SteppedClock(Protocol):
    """A clock that moves only when told (simulated time)."""

    manual: bool

    def __call__(self) -> int: ...

    def advance(self, ns: int) -> None: ...


class BookedPayment(Protocol):
    """A funding or borrow payment as the journal keeps it (``FundingPayment``)."""

    @property
    def market(self) -> str: ...

    @property
    def amount(self) -> int: ...  # quote at price precision; positive received

    @property
    def ts(self) -> int: ...


@dataclass(frozen=True, slots=True)
class OrderHistory:
    """What the journal remembers of one venue, for ``TradingVenue.restore``
    (oldest first)."""

    fills: tuple[Fill, ...] = ()
    payments: tuple[BookedPayment, ...] = ()  # funding and borrow payments
    open_orders: tuple[Order, ...] = ()


class TransactionPreview(Protocol):
    """A checked, unsigned transaction and what it will do, in human units."""

    @property
    def action(self) -> str:
        """``place``, ``cancel``, ``cancel_all`` or ``modify``."""

    @property
    def venue(self) -> str: ...

    @property
    def dry_run(self) -> bool:
        """Signed only, never sent."""

    def lines(self) -> list[str]:
        """The decoded transaction in human units, for the screen."""


ApprovalHook = Callable[[TransactionPreview], bool | Awaitable[bool]]


@runtime_checkable
class TradingVenue(Protocol):
    """The trading capability of a venue: where the router sends accepted orders."""

    id: str

    def account_events(self, now: int) -> Iterable[Position | AccountState]:
        """The account view: positions and account state (equity, margin) valued
        now, as events for the cache. Empty for a venue that publishes its
        account on the bus itself (a live venue's chain view)."""

    def place(self, intent: OrderIntent, order_id: str, *, take_profit: int = 0, stop_loss: int = 0) -> Order | Awaitable[Order]:
        """Place an order and, with prices given, reduce-only take-profit and
        stop-loss legs for it. Returns the entry order; raises VenueError."""

    def cancel(self, order_id: str) -> Order | Awaitable[Order]: ...

    def cancel_all(self, market: str | None = None, *, keep_protective: bool = False) -> list[Order] | Awaitable[list[Order]]:
        """Cancel every open order (of ``market``); ``keep_protective`` keeps
        reduce-only stops and take-profits. Returns the cancelled orders."""

    def modify(self, order_id: str, *, price: int | None = None, size: int | None = None) -> Order | Awaitable[Order]: ...

    def open_orders(self, market: str | None = None) -> list[Order]: ...

    def risk_context(
        self, market: str, ts: int, best_bid: int | None = None, best_ask: int | None = None
    ) -> RiskContext:
        """The account and market figures the risk engine checks an order against;
        raises VenueError when the account is not known yet."""

    def restore(self, history: OrderHistory) -> None:
        """Rebuild from the journal at start (paper accounts); a venue whose
        account lives on chain has nothing to rebuild."""


@runtime_checkable
class ApprovesTransactions(Protocol):
    """A trading venue whose orders are signed transactions: ``approve`` is asked
    with each decoded preview before signing; False declines (``Declined``)."""

    approve: ApprovalHook | None


@runtime_checkable
class ChangesCollateral(Protocol):
    """A trading venue whose positions hold their own collateral (Jupiter Perps):
    ``change`` (quote at price precision, signed) is added to or taken out of the
    open ``side`` position of ``market``. Returns the order that follows it."""

    def change_collateral(
        self, market: str, side: Literal["long", "short"], change: int, order_id: str
    ) -> Order | Awaitable[Order]: ...


@runtime_checkable
class SharesVenue(Protocol):
    """A trading capability in a venue others trade in too (a served console's
    paper account in the shared simulated venue): ``detach`` lets go of the
    venue when its trader leaves; the venue goes on for the others."""

    def detach(self) -> None: ...


@runtime_checkable
class LoadsAccount(Protocol):
    """A trading venue whose account lives on chain and is read on demand:
    ``refresh`` loads it (and the accounts of ``markets``) before the risk
    engine can check an order against it. Raises VenueError."""

    async def refresh(self, markets: Iterable[str] = ()) -> None: ...


@runtime_checkable
class FollowsAccount(Protocol):
    """A trading venue that can follow its trader's account (positions, margin)
    onto the session's bus itself, for a console whose venue follows none of
    its own (a served trader's); runs until cancelled."""

    async def follow_account(self) -> None: ...


def is_protective(order: Order) -> bool:
    """A reduce-only trigger: a stop or take-profit guarding a position."""
    return order.reduce_only and order.type in ("stop_market", "stop_limit", "take_profit_market", "take_profit_limit")
