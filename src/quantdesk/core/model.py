"""Normalized events and state shared by every venue, the core and the UI.

Prices and sizes are integers at the market's precision (``price_decimals``,
``size_decimals``); rates are integers in parts per billion of notional per
interval. Floats appear only where a value is formatted for a human.
Timestamps are integer nanoseconds since the Unix epoch.

Hot events (book, trade) are ``gc=False``: they hold only scalars and lists of
scalars, so they can never form reference cycles.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

import msgspec

PRICE_DECIMALS = 6  # Drift PRICE_PRECISION 1e6, Jupiter USD 1e6
SIZE_DECIMALS = 9  # Drift BASE_PRECISION 1e9
RATE_SCALE = 1_000_000_000  # rates: parts per billion
SECONDS_PER_YEAR = 365 * 24 * 3600

Side = Literal["buy", "sell"]
MarketKind = Literal["clob", "pool"]
Level = tuple[int, int]  # (price, size); size 0 in a delta deletes the level


class Market(msgspec.Struct, frozen=True):
    venue: str
    symbol: str
    base: str
    quote: str
    kind: MarketKind
    tick_size: int  # in price units
    lot_size: int  # in size units
    price_decimals: int = PRICE_DECIMALS
    size_decimals: int = SIZE_DECIMALS
    index: int = 0  # the venue's own market index

    @property
    def key(self) -> str:
        return f"{self.venue}.{self.symbol}"

    def price(self, value: int) -> Decimal:
        return Decimal(value).scaleb(-self.price_decimals)

    def size(self, value: int) -> Decimal:
        return Decimal(value).scaleb(-self.size_decimals)

    def to_price(self, value: Decimal | str | int) -> int:
        return int((Decimal(value).scaleb(self.price_decimals)).to_integral_value())

    def to_size(self, value: Decimal | str | int) -> int:
        return int((Decimal(value).scaleb(self.size_decimals)).to_integral_value())


class BookSnapshot(msgspec.Struct, frozen=True, gc=False, tag="book_snapshot", tag_field="event"):
    venue: str
    market: str
    seq: int
    ts: int
    bids: list[Level]  # best first
    asks: list[Level]  # best first


class BookDelta(msgspec.Struct, frozen=True, gc=False, tag="book_delta", tag_field="event"):
    """Level changes since ``seq - 1``: each (price, size) sets the level's
    total size, size 0 removes it."""

    venue: str
    market: str
    seq: int
    ts: int
    bids: list[Level] = []
    asks: list[Level] = []


class Trade(msgspec.Struct, frozen=True, gc=False, tag="trade", tag_field="event"):
    venue: str
    market: str
    ts: int
    price: int
    size: int
    side: Side  # the taker's side (the maker's when ``liquidity`` is "maker")
    # Whose order ``side`` is: the aggressor's ("taker"), the resting order's when
    # the venue names no taker ("maker": an AMM filling a maker), "" unknown.
    liquidity: Literal["taker", "maker", ""] = "taker"
    # The accounts on each side when the venue names them (Drift: User account
    # addresses; "" when unknown, e.g. no maker when an order filled against the AMM).
    maker: str = ""
    taker: str = ""


class Funding(msgspec.Struct, frozen=True, tag="funding", tag_field="event"):
    """Funding (paid between longs and shorts) or borrow fee (paid to a pool).

    ``rate`` and ``predicted_rate`` are per ``interval_s`` in parts per billion;
    positive means longs pay. For ``kind="borrow"`` both sides pay ``rate``.
    """

    venue: str
    market: str
    ts: int
    rate: int
    predicted_rate: int
    interval_s: int
    next_ts: int
    kind: Literal["funding", "borrow"] = "funding"

    @property
    def annualized(self) -> int:
        """The current rate over a year, parts per billion."""
        return self.rate * SECONDS_PER_YEAR // self.interval_s

    @property
    def predicted_annualized(self) -> int:
        return self.predicted_rate * SECONDS_PER_YEAR // self.interval_s


class OpenInterest(msgspec.Struct, frozen=True, tag="open_interest", tag_field="event"):
    venue: str
    market: str
    ts: int
    long: int  # base units, positive
    short: int  # base units, positive


class OraclePrice(msgspec.Struct, frozen=True, tag="oracle", tag_field="event"):
    venue: str
    market: str
    ts: int
    price: int
    confidence: int = 0


class MarkPrice(msgspec.Struct, frozen=True, tag="mark", tag_field="event"):
    venue: str
    market: str
    ts: int
    price: int


OrderType = Literal["market", "limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit"]
OrderStatus = Literal["pending", "open", "triggered", "filled", "cancelled", "rejected"]


class Order(msgspec.Struct, frozen=True, tag="order", tag_field="event"):
    venue: str
    market: str
    order_id: str
    side: Side
    type: OrderType
    size: int
    price: int = 0  # limit price; 0 for market orders
    trigger_price: int = 0
    filled: int = 0
    status: OrderStatus = "open"
    post_only: bool = False
    reduce_only: bool = False
    ioc: bool = False
    client_id: str = ""
    ts: int = 0
    reason: str = ""

    @property
    def remaining(self) -> int:
        return self.size - self.filled


class Fill(msgspec.Struct, frozen=True, tag="fill", tag_field="event"):
    venue: str
    market: str
    order_id: str
    fill_id: str
    side: Side
    price: int
    size: int
    fee: int  # quote units at price precision; negative is a rebate
    liquidity: Literal["maker", "taker"]
    ts: int


class Position(msgspec.Struct, frozen=True, tag="position", tag_field="event"):
    venue: str
    market: str
    base: int  # signed: long > 0, short < 0
    quote_entry: int  # signed quote at price precision paid to enter (negative for longs)
    entry_price: int
    mark_price: int = 0
    unrealized_pnl: int = 0
    realized_pnl: int = 0
    liquidation_price: int | None = None
    margin: int = 0
    leverage_bps: int = 0  # 1e4 = 1x
    ts: int = 0
    # Of the position held now (reset when it closes or flips, scaled down
    # pro rata when it is reduced), quote at price precision:
    fees: int = 0  # trading fees paid to open it (negative: rebates received)
    funding: int = 0  # funding and borrow fees received (negative: paid)


class AccountState(msgspec.Struct, frozen=True, tag="account", tag_field="event"):
    venue: str
    ts: int
    collateral: int  # quote at price precision
    equity: int
    free_collateral: int
    margin_requirement: int
    health: int  # 0-100
    leverage_bps: int  # 1e4 = 1x


class OrderIntent(msgspec.Struct, frozen=True, tag="intent", tag_field="event"):
    """What the trader asked for, before risk checks and before a venue sees it."""

    venue: str
    market: str
    side: Side
    type: OrderType
    size: int
    price: int = 0
    trigger_price: int = 0
    post_only: bool = False
    reduce_only: bool = False
    ioc: bool = False
    client_id: str = ""


ConnState = Literal["connecting", "connected", "stale", "down", "read-only"]


class VenueStatus(msgspec.Struct, frozen=True, tag="status", tag_field="event"):
    venue: str
    state: ConnState
    ts: int
    last_message_ts: int = 0
    message: str = ""
    on_demand: bool = False  # sends data only when asked (a simulator at rate 0): silence is not staleness

    def age_s(self, now_ns: int) -> float:
        """Seconds since the venue last sent data (display only)."""
        if not self.last_message_ts:
            return float("inf")
        return max(0.0, (now_ns - self.last_message_ts) / 1e9)


class Candle(msgspec.Struct, frozen=True, tag="candle", tag_field="event"):
    """One bar of a market's price: open, high, low and close over ``timeframe``
    (``1m`` ... ``1d``, see ``core/candles.py``) from ``ts``, the bar's start.

    ``volume`` is base traded (size units); ``quote_volume`` quote traded at
    price precision. A bar in which nothing traded repeats the last close with
    zero volume, as venues' candle services do."""

    venue: str
    market: str
    timeframe: str
    ts: int
    open: int
    high: int
    low: int
    close: int
    volume: int = 0
    quote_volume: int = 0


class FundingHistory(msgspec.Struct, frozen=True, tag="funding_history", tag_field="event"):
    """Past funding (or borrow) rates of one market, oldest first: each point is
    (ts in ns, rate per hour in parts per billion; positive: longs pay)."""

    venue: str
    market: str
    ts: int
    points: list[tuple[int, int]]
    kind: Literal["funding", "borrow"] = "funding"


Event = (
    BookSnapshot
    | BookDelta
    | Trade
    | Funding
    | OpenInterest
    | OraclePrice
    | MarkPrice
    | Order
    | Fill
    | Position
    | AccountState
    | VenueStatus
    | Candle
    | FundingHistory
)

TOPIC_PREFIX: dict[type, str] = {
    BookSnapshot: "book",
    BookDelta: "book",
    Trade: "trade",
    Funding: "funding",
    OpenInterest: "oi",
    OraclePrice: "oracle",
    MarkPrice: "mark",
    Order: "order",
    Fill: "fill",
    Position: "position",
    AccountState: "account",
    VenueStatus: "status",
    Candle: "candle",
    FundingHistory: "funding_history",
}

_ACCOUNT_SCOPED = {"order", "fill", "position", "account", "status"}


def topic_for(event: Event) -> str:
    """The bus topic of an event: ``book.sim-drift.SOL-PERP``, ``account.sim-drift``."""
    prefix = TOPIC_PREFIX[type(event)]
    if prefix in _ACCOUNT_SCOPED:
        return f"{prefix}.{event.venue}"
    return f"{prefix}.{event.venue}.{event.market}"  # type: ignore[union-attr]  # only account-scoped events lack a market


def to_decimal(value: int, decimals: int) -> Decimal:
    return Decimal(value).scaleb(-decimals)
