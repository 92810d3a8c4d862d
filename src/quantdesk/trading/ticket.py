"""The order ticket's arithmetic: typed fields in, order intents and a preview out.

Pure and synchronous (no Textual, no I/O), so every rule a trader meets on
the ticket is tested here: what counts as a valid size or price for a market,
how a quote notional becomes base lots, how a scale or bracket is shaped, and
what the order is expected to cost before it is sent. Money stays integers at
the market's precision; ``Decimal`` only where a typed number is parsed.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Literal, Protocol

from quantdesk.core.book import OrderBook
from quantdesk.core.model import Market, OrderIntent, OrderType, Side
from quantdesk.trading.builders import OrderShapeError, scale_orders
from quantdesk.trading.paper_account import FillPreview

ORDER_TYPES: tuple[tuple[OrderType, str], ...] = (
    ("market", "Market"),
    ("limit", "Limit"),
    ("stop_market", "Stop market"),
    ("stop_limit", "Stop limit"),
    ("take_profit_market", "Take-profit market"),
    ("take_profit_limit", "Take-profit limit"),
)
LIMIT_PRICED = {"limit", "stop_limit", "take_profit_limit"}
TRIGGERED = {"stop_market", "stop_limit", "take_profit_market", "take_profit_limit"}
MAX_SCALE_ORDERS = 50


class TicketError(ValueError):
    """A field the ticket cannot send; ``field`` names the input to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class TicketInput:
    """The ticket's fields exactly as typed."""

    side: Side
    type: OrderType = "limit"
    size: str = ""
    size_in_quote: bool = False  # size is a quote notional (USD), converted to whole lots
    price: str = ""
    trigger_price: str = ""
    post_only: bool = False
    reduce_only: bool = False
    ioc: bool = False
    scale_count: str = ""  # 2+ turns a limit order into that many orders from price to scale_to
    scale_to: str = ""
    take_profit: str = ""
    stop_loss: str = ""


@dataclass(frozen=True, slots=True)
class TicketPlan:
    """What confirming the ticket sends: one intent (with its bracket) or a scale."""

    intents: list[OrderIntent]
    take_profit: int = 0
    stop_loss: int = 0

    @property
    def total_size(self) -> int:
        return sum(i.size for i in self.intents)


def plain(value: Decimal) -> str:
    """A Decimal as a trader types it: ``140``, ``0.01`` (never ``1.4E+2``)."""
    return f"{value.normalize():f}"


def needs_price(order_type: str) -> bool:
    return order_type in LIMIT_PRICED


def needs_trigger(order_type: str) -> bool:
    return order_type in TRIGGERED


# ------------------------------------------------------------------ parsing


def _number(field_name: str, label: str, text: str) -> Decimal:
    raw = text.strip().replace(",", "").replace("_", "")
    if raw.startswith("$"):
        raw = raw[1:]
    if not raw:
        raise TicketError(field_name, f"enter a {label}")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise TicketError(field_name, f"{label} {text.strip()!r} is not a number; type digits like 145.25") from None
    if not value.is_finite():
        raise TicketError(field_name, f"{label} {text.strip()!r} is not a number; type digits like 145.25")
    if value <= 0:
        raise TicketError(field_name, f"{label} must be greater than zero")
    return value


def _on_grid(value: Decimal, decimals: int, step: int) -> tuple[int, bool]:
    """``value`` at precision ``decimals`` and whether it lands exactly on a multiple of ``step``."""
    scaled = value.scaleb(decimals)
    units = int(scaled.to_integral_value())
    return units, scaled == units and units % step == 0


def parse_price(market: Market, text: str, field_name: str = "price", label: str = "price") -> int:
    value = _number(field_name, label, text)
    units, ok = _on_grid(value, market.price_decimals, market.tick_size)
    if not ok:
        tick = market.tick_size
        below = int(value.scaleb(market.price_decimals)) // tick * tick
        options = [p for p in (below, below + tick) if p > 0]
        use = " or ".join(plain(market.price(p)) for p in options)
        raise TicketError(
            field_name,
            f"{label} {plain(value)} is off the tick {plain(market.price(tick))}: use {use}",
        )
    return units


def parse_base_size(market: Market, text: str) -> int:
    value = _number("size", "size", text)
    units, ok = _on_grid(value, market.size_decimals, market.lot_size)
    if not ok:
        lot = market.lot_size
        below = int(value.scaleb(market.size_decimals)) // lot * lot
        options = [s for s in (below, below + lot) if s > 0]
        use = " or ".join(f"{plain(market.size(s))}" for s in options)
        raise TicketError(
            "size",
            f"size {plain(value)} {market.base} is not a multiple of the lot "
            f"{plain(market.size(lot))} {market.base}: use {use}",
        )
    return units


def quote_to_base(market: Market, quote_text: str, price: int) -> int:
    """A quote notional (USD) as whole lots at ``price``, rounded down."""
    value = _number("size", "notional", quote_text)
    if price <= 0:
        raise TicketError("size", "no price to convert the notional at yet; wait for market data or size in base")
    quote_units = int(value.scaleb(market.price_decimals).to_integral_value())
    base: int = quote_units * 10**market.size_decimals // price
    lots = base // market.lot_size
    if lots == 0:
        one_lot = -(-market.lot_size * price // 10**market.size_decimals)  # ceil, quote units
        raise TicketError(
            "size",
            f"${plain(value)} buys less than one lot ({plain(market.size(market.lot_size))} "
            f"{market.base} at {plain(market.price(price))}): enter at least ${Decimal(one_lot).scaleb(-market.price_decimals):.2f}",
        )
    return lots * market.lot_size


# ------------------------------------------------------------------ the plan


def reference_price(inp: TicketInput, market: Market, book: OrderBook | None, oracle: int = 0) -> int:
    """The price a quote notional is converted at: the limit price if typed
    (and valid), else the trigger, else the touch the order would take, else the oracle."""
    for text, needed in ((inp.price, needs_price(inp.type)), (inp.trigger_price, needs_trigger(inp.type))):
        if needed and text.strip():
            try:
                return parse_price(market, text)
            except TicketError:
                pass
    if book is not None:
        level = book.best_ask() if inp.side == "buy" else book.best_bid()
        if level is not None:
            return level[0]
    return oracle


def build_plan(
    inp: TicketInput, market: Market, book: OrderBook | None = None, oracle: int = 0, client_id: str = ""
) -> TicketPlan:
    """Validate the ticket and shape its orders; raises ``TicketError`` naming the field to fix."""
    kind = inp.type.replace("_", "-")
    size = 0 if inp.size_in_quote else parse_base_size(market, inp.size)  # fields top to bottom
    price = parse_price(market, inp.price) if needs_price(inp.type) else 0
    trigger = (
        parse_price(market, inp.trigger_price, "trigger_price", "trigger price") if needs_trigger(inp.type) else 0
    )
    if inp.size_in_quote:
        size = quote_to_base(market, inp.size, price or trigger or reference_price(inp, market, book, oracle))
    if inp.post_only and inp.type != "limit":
        raise TicketError("post_only", f"post-only is for limit orders; a {kind} order cannot be post-only")
    if inp.post_only and inp.ioc:
        raise TicketError("ioc", "post-only and IOC contradict: a post-only order rests, an IOC order never does")
    if inp.ioc and inp.type != "limit":
        raise TicketError("ioc", f"IOC applies to limit orders; a {kind} order {'is IOC already' if inp.type == 'market' else 'waits for its trigger'}")

    take_profit = (
        parse_price(market, inp.take_profit, "take_profit", "take-profit") if inp.take_profit.strip() else 0
    )
    stop_loss = parse_price(market, inp.stop_loss, "stop_loss", "stop-loss") if inp.stop_loss.strip() else 0
    if take_profit or stop_loss:
        if inp.type not in ("market", "limit"):
            raise TicketError("take_profit", "a bracket needs a market or limit entry; clear TP/SL or change the type")
        if inp.reduce_only:
            raise TicketError("take_profit", "a reduce-only order cannot carry a bracket; clear TP/SL or reduce-only")
        entry = price or reference_price(inp, market, book, oracle)
        if entry:
            long = inp.side == "buy"
            if take_profit and (take_profit <= entry if long else take_profit >= entry):
                raise TicketError(
                    "take_profit",
                    f"take-profit {plain(market.price(take_profit))} must be "
                    f"{'above' if long else 'below'} the entry {plain(market.price(entry))} for a {inp.side}",
                )
            if stop_loss and (stop_loss >= entry if long else stop_loss <= entry):
                raise TicketError(
                    "stop_loss",
                    f"stop-loss {plain(market.price(stop_loss))} must be "
                    f"{'below' if long else 'above'} the entry {plain(market.price(entry))} for a {inp.side}",
                )

    count_text = inp.scale_count.strip()
    if count_text and count_text != "1":
        try:
            count = int(count_text)
        except ValueError:
            raise TicketError("scale_count", f"scale count {count_text!r} is not a whole number; type 2 to {MAX_SCALE_ORDERS}") from None
        if not 2 <= count <= MAX_SCALE_ORDERS:
            raise TicketError("scale_count", f"scale count must be 2 to {MAX_SCALE_ORDERS} orders (or empty for one order)")
        if inp.type != "limit":
            raise TicketError("scale_count", "scale orders are limit orders; choose the Limit type")
        if take_profit or stop_loss:
            raise TicketError("scale_count", "a scale cannot carry a bracket; clear TP/SL or the scale count")
        if inp.ioc:
            raise TicketError("scale_count", "scale orders rest in the book; clear IOC")
        if not inp.scale_to.strip():
            raise TicketError("scale_to", "enter the price the scale ends at")
        to = parse_price(market, inp.scale_to, "scale_to", "scale end price")
        try:
            intents = scale_orders(
                market, inp.side, size, price, to, count,
                post_only=inp.post_only, reduce_only=inp.reduce_only, client_id=client_id,
            )
        except OrderShapeError as exc:
            raise TicketError("scale_count", str(exc)) from None
        return TicketPlan(intents)

    intent = OrderIntent(
        market.venue, market.symbol, inp.side, inp.type, size, price=price, trigger_price=trigger,
        post_only=inp.post_only, reduce_only=inp.reduce_only, ioc=inp.ioc, client_id=client_id,
    )
    return TicketPlan([intent], take_profit, stop_loss)


# ------------------------------------------------------------------ preview


class FillPreviewer(Protocol):
    """A paper account's ``preview_fill`` (``PaperAccount``)."""

    def preview_fill(self, market: str, side: Side, size: int, price: int, liquidity: Literal["maker", "taker"] = ...) -> FillPreview: ...


@dataclass(frozen=True, slots=True)
class Preview:
    """What the ticket shows before confirming. Prices and money at market precision."""

    size: int
    fill_price: Decimal | None  # estimated average fill price
    slippage_bps: Decimal | None  # vs the touch; None when the order rests
    liquidity: Literal["maker", "taker"]
    notional: int  # quote at price precision
    unfilled: int = 0  # base the visible book cannot fill now
    fee: int | None = None
    position_after: int | None = None  # signed base
    entry_after: int | None = None
    liquidation_price: int | None = None
    leverage_bps: int | None = None
    free_collateral: int | None = None
    notes: list[str] = field(default_factory=list)


def preview(
    plan: TicketPlan, market: Market, book: OrderBook | None, oracle: int = 0, account: FillPreviewer | None = None
) -> Preview:
    """Estimated fill, slippage and the account afterwards, from the book and the paper account."""
    first = plan.intents[0]
    side, size = first.side, plan.total_size
    scale = 10**market.size_decimals
    notes: list[str] = []
    touch_level = None
    if book is not None:
        touch_level = book.best_ask() if side == "buy" else book.best_bid()
    touch = touch_level[0] if touch_level else None

    fill_price: Decimal | None
    slippage: Decimal | None = None
    liquidity: Literal["maker", "taker"] = "taker"
    unfilled = 0
    if len(plan.intents) > 1:
        notional_sum = sum(i.size * i.price for i in plan.intents)
        fill_price = Decimal(notional_sum) / size
        liquidity = "maker"
        notes.append(f"{len(plan.intents)} limit orders, average price shown")
    elif first.type == "market" or (first.type == "limit" and touch is not None and (
        first.price >= touch if side == "buy" else first.price <= touch
    )):
        impact = book.impact(side, size) if book is not None else None
        if impact is None:
            fill_price = Decimal(oracle) if oracle else None
            notes.append("no book on this side: estimated at the oracle")
        else:
            fill_price, slippage, unfilled = impact.avg_price, impact.slippage_bps, size - impact.filled
            if first.type == "limit" and (impact.worst_price > first.price if side == "buy" else impact.worst_price < first.price):
                notes.append("part of the order would rest at the limit price")
        if first.type == "limit" and first.post_only:
            notes.append("post-only at this price would cross the book and be rejected")
    elif first.type == "limit":
        fill_price, liquidity = Decimal(first.price), "maker"
        notes.append("rests in the book as a maker order")
    elif first.type in LIMIT_PRICED:
        fill_price = Decimal(first.price)
        notes.append("a limit order is placed when the trigger fires")
    else:
        fill_price = Decimal(first.trigger_price)
        notes.append("fills at market when the oracle crosses the trigger")
    if first.type in TRIGGERED and oracle > 0:
        # Drift's rule: a stop buys above and sells below its trigger, a take-profit the other way
        above = (side == "buy") == first.type.startswith("stop")
        if oracle > first.trigger_price if above else oracle < first.trigger_price:
            notes.append("the oracle is already through the trigger: the order fires at once")
    if unfilled:
        notes.append(f"the visible book fills only {plain(market.size(size - unfilled))} {market.base} now")

    price_int = int(fill_price.to_integral_value()) if fill_price is not None else 0
    notional = size * price_int // scale
    out = Preview(
        size=size, fill_price=fill_price, slippage_bps=slippage, liquidity=liquidity,
        notional=notional, unfilled=unfilled, notes=notes,
    )
    if account is not None and price_int > 0:
        pf = account.preview_fill(market.symbol, side, size, price_int, liquidity)
        out = replace(
            out, fee=pf.fee, position_after=pf.base, entry_after=pf.entry_price,
            liquidation_price=pf.liquidation_price, leverage_bps=pf.leverage_bps, free_collateral=pf.free_collateral,
        )
    return out


def step_price(market: Market, current: str, ticks: int, touch: int | None) -> int | None:
    """The price ``ticks`` ticks from what is typed, or from the touch when
    nothing valid is typed yet (the first step lands on the touch itself)."""
    try:
        base = parse_price(market, current)
    except TicketError:
        base = None
    if base is None:
        return touch
    return max(market.tick_size, base + ticks * market.tick_size)
