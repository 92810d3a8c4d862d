"""Pre-trade risk checks and the kill switch.

Every order intent passes ``RiskEngine.check`` before it reaches a venue or a
signer, and so does every modify (as the order it would leave) and every
child of a scale or bracket ticket (``check_batch``, as a whole). The engine is
pure: the caller passes what it knows about the market and the account
(``RiskContext``, including the time, the book and the data's age), and gets
back a ``RiskDecision`` that names the check and says by how much a limit was
missed. The only state kept is the kill switch and the timestamps of recently
accepted orders (for the orders-per-second window).

``RiskLimits`` is a plain dataclass: the config layer validates the ``[risk]``
section (with the bounds below) and converts it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal, InvalidOperation

import msgspec

from quantdesk.core.book import Impact, OrderBook
from quantdesk.core.model import OrderIntent
from quantdesk.core.venue import RiskContext

NS_PER_S = 1_000_000_000
_RESTING_TYPES = {"limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit"}
SELF_TRADE_MODES = ("reject", "cancel_resting", "cancel_both")

# Every number a limit may take, inclusive. Outside these a limit is a typo or an
# attack on the arithmetic (1e999999 overflows every check), never a setting.
_MONEY = (Decimal("0.01"), Decimal(10**12))
LIMIT_BOUNDS: dict[str, tuple[Decimal | int, Decimal | int]] = {
    "max_order_notional": _MONEY,
    "max_position_notional": _MONEY,
    "max_position_notional_per_market": _MONEY,  # each value
    "max_leverage": (Decimal("0.01"), Decimal(1_000)),
    "price_band_bps": (1, 10_000),
    "max_open_orders": (0, 100_000),
    "max_orders_per_second": (1, 100_000),
    "max_data_age_s": (Decimal("0.1"), Decimal(86_400)),
}


def _decimal(name: str, value: object) -> Decimal:
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        raise ValueError(f"risk limit {name} must be a number, got {value!r}") from None
    return d


def _bounded(name: str, value: object) -> Decimal | int:
    lo, hi = LIMIT_BOUNDS[name]
    if isinstance(lo, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"risk limit {name} must be a whole number, got {value!r}")
        v: Decimal | int = value
    else:
        v = _decimal(name, value)
    if not (isinstance(v, int) or v.is_finite()) or not lo <= v <= hi:
        raise ValueError(f"risk limit {name} must be from {lo} to {hi}, got {value!r}")
    return v


@dataclass(frozen=True)
class RiskLimits:
    """The ``[risk]`` limits. Money in quote units (USD), as a trader writes it;
    converted to integers at the market's precision. Numbers are checked
    against ``LIMIT_BOUNDS`` on construction (``ValueError`` says which)."""

    max_order_notional: Decimal = Decimal(50_000)  # largest single order, quote
    max_position_notional: Decimal = Decimal(200_000)  # per market, resting orders included, at the oracle
    max_position_notional_per_market: dict[str, Decimal] = field(default_factory=dict)  # by market symbol
    max_leverage: Decimal = Decimal(10)  # account leverage after the order, x
    price_band_bps: int = 500  # how far a price (or a market order's fills) may go through the oracle
    max_open_orders: int = 50  # resting orders, bracket legs included
    max_orders_per_second: int = 10
    max_data_age_s: Decimal = Decimal(10)  # older market data: no new orders on that market
    kill_switch: bool = False  # start with new orders halted
    self_trade: str = "reject"  # paper venues: reject | cancel_resting | cancel_both

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name in LIMIT_BOUNDS and f.name != "max_position_notional_per_market":
                object.__setattr__(self, f.name, _bounded(f.name, getattr(self, f.name)))
        per_market = {
            str(k): _bounded("max_position_notional_per_market", v)
            for k, v in dict(self.max_position_notional_per_market).items()
        }
        object.__setattr__(self, "max_position_notional_per_market", per_market)
        object.__setattr__(self, "kill_switch", bool(self.kill_switch))
        if self.self_trade not in SELF_TRADE_MODES:
            raise ValueError(f"risk self_trade must be one of {', '.join(SELF_TRADE_MODES)}, got {self.self_trade!r}")


class RiskDecision(msgspec.Struct, frozen=True, tag="risk"):
    accepted: bool
    check: str  # the check that rejected (the limit's name); "" when accepted
    message: str  # for the trader: which limit and by how much
    client_id: str = ""
    ts: int = 0
    limit_value: str = ""  # the configured limit, exact, in the limit's own unit (USD, x, bps, count)
    excess: str = ""  # by how much the order went over it, same unit


_Rejection = tuple[str, str, object, object]  # check, message, limit value, excess


def _exact(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(value)


def _quote(value: int, decimals: int) -> Decimal:
    return Decimal(value).scaleb(-decimals)


def _money(value: int, decimals: int) -> str:
    return f"${Decimal(value).scaleb(-decimals):,.2f}"


def _size(value: int, decimals: int) -> str:
    return f"{Decimal(value).scaleb(-decimals).normalize():f}"


def _pct_bps(bps: int | Decimal) -> str:
    return f"{Decimal(bps) / 100:.2f}%"


def _lev(bps: int) -> str:
    return f"{Decimal(bps) / 10_000:.2f}x"


def _age(ns: int) -> str:
    return f"{Decimal(ns).scaleb(-9).quantize(Decimal('0.1'))} s"


class RiskEngine:
    def __init__(self, limits: RiskLimits | None = None) -> None:
        self.limits = limits or RiskLimits()
        self._accepted_ts: deque[int] = deque()
        self._kill_reason: str | None = "engaged in config" if self.limits.kill_switch else None

    # -- kill switch ---------------------------------------------------------

    @property
    def kill_switch_engaged(self) -> bool:
        return self._kill_reason is not None

    @property
    def kill_switch_reason(self) -> str:
        """Why new orders are halted ("" when they are not)."""
        return self._kill_reason or ""

    def engage_kill_switch(self, reason: str = "engaged by the trader") -> None:
        """Halt every new order until ``release_kill_switch``. Cancelling the
        resting orders is the caller's job (it owns the venues)."""
        self._kill_reason = reason

    def release_kill_switch(self) -> None:
        self._kill_reason = None

    # -- checks --------------------------------------------------------------

    def check(self, intent: OrderIntent, ctx: RiskContext, *, bracket_legs: int = 0) -> RiskDecision:
        """Run every check in order and return the first rejection, or an
        acceptance (which counts toward the orders-per-second window).
        ``bracket_legs``: the take-profit and stop-loss orders the entry will
        add; they count against the max open orders."""
        rejection = self._first_rejection(intent, ctx, bracket_legs, 0)
        if rejection is not None:
            return self._rejected(intent, ctx, rejection)
        self._accepted_ts.append(ctx.ts)
        return RiskDecision(True, "", "accepted", intent.client_id, ctx.ts)

    def check_batch(self, intents: Sequence[OrderIntent], ctx: RiskContext) -> list[RiskDecision]:
        """Check the children of one ticket (a scale) as a whole: each child is
        checked with the ones before it already resting, so together they must
        fit every limit. Either all are accepted, or none is: the decisions say
        which child broke which limit (the others name it)."""
        decisions: list[RiskDecision] = []
        bids, asks, opened = ctx.open_bids, ctx.open_asks, ctx.open_orders
        for n, intent in enumerate(intents):
            child = replace(ctx, open_bids=bids, open_asks=asks, open_orders=opened)
            rejection = self._first_rejection(intent, child, 0, n)
            if rejection is not None:
                check, message, limit_value, excess = rejection
                what = f"order {n + 1} of {len(intents)} of the ticket: {message}; nothing was sent"
                failed = self._rejected(intent, child, (check, what, limit_value, excess))
                return [
                    failed if i == n else RiskDecision(
                        False, check, what, other.client_id, ctx.ts, failed.limit_value, failed.excess
                    )
                    for i, other in enumerate(intents)
                ]
            if _rests(intent):
                opened += 1
                if not intent.reduce_only:
                    bids, asks = (bids + intent.size, asks) if intent.side == "buy" else (bids, asks + intent.size)
            decisions.append(RiskDecision(True, "", "accepted", intent.client_id, ctx.ts))
        self._accepted_ts.extend(ctx.ts for _ in intents)
        return decisions

    def check_collateral(self, market: str, change: int, ctx: RiskContext, client_id: str = "") -> RiskDecision:
        """A collateral change on a position (quote at price precision, signed).
        Adding only lowers risk and is always accepted; taking out must not
        happen while halted, on stale data, or leave the account over the max
        leverage."""
        if change >= 0:
            return RiskDecision(True, "", "accepted", client_id, ctx.ts)
        rejection: _Rejection | None = None
        probe = OrderIntent("", market, "sell", "market", 1)  # the checks below read only its market
        for rule in (self._check_kill_switch, self._check_data_age):
            rejection = rejection or rule(probe, ctx)
        if rejection is None:
            rejection = self._withdrawal_leverage(-change, ctx)
        if rejection is not None:
            check, message, limit_value, excess = rejection
            return RiskDecision(False, check, message, client_id, ctx.ts, _exact(limit_value), _exact(excess))
        return RiskDecision(True, "", "accepted", client_id, ctx.ts)

    def _withdrawal_leverage(self, amount: int, ctx: RiskContext) -> _Rejection | None:
        p = ctx.price_decimals
        after = ctx.equity - amount
        max_bps = int(self.limits.max_leverage * 10_000)
        if after <= 0:
            return (
                "max_leverage",
                f"taking out {_money(amount, p)} leaves the account equity at {_money(after, p)}; take out less",
                self.limits.max_leverage,
                None,
            )
        if ctx.account_notional * 10_000 > max_bps * after:
            lev = ctx.account_notional * 10_000 // after
            return (
                "max_leverage",
                f"taking out {_money(amount, p)} would leave account leverage at {_lev(lev)}, over the max leverage "
                f"{_lev(max_bps)} by {_lev(lev - max_bps)}; take out less",
                self.limits.max_leverage,
                Decimal(lev - max_bps) / 10_000,
            )
        return None

    def _first_rejection(self, intent: OrderIntent, ctx: RiskContext, legs: int, pending: int) -> _Rejection | None:
        for rule in (
            self._check_kill_switch,
            self._check_size,
            self._check_data_age,
            self._check_reduce_only,
            self._check_price_band,
            self._check_order_notional,
            self._check_position_notional,
            self._check_leverage,
        ):
            rejection = rule(intent, ctx)
            if rejection is not None:
                return rejection
        return self._check_open_orders(intent, ctx, legs) or self._check_rate(intent, ctx, pending)

    def _rejected(self, intent: OrderIntent, ctx: RiskContext, rejection: _Rejection) -> RiskDecision:
        check, message, limit_value, excess = rejection
        return RiskDecision(False, check, message, intent.client_id, ctx.ts, _exact(limit_value), _exact(excess))

    def reference_price(self, intent: OrderIntent, ctx: RiskContext) -> int:
        """The price an order is valued at: its limit, else its trigger, else
        the touch it would take, else the oracle. (A market order with a book
        is valued by walking it: ``order_notional``.)"""
        if intent.price > 0:
            return intent.price
        if intent.trigger_price > 0:
            return intent.trigger_price
        touch = ctx.best_ask if intent.side == "buy" else ctx.best_bid
        return touch if touch else ctx.oracle_price

    def walk(self, intent: OrderIntent, ctx: RiskContext) -> Impact | None:
        """What a market order would take from the book now (None: no book)."""
        if intent.type != "market" or ctx.book is None or intent.size <= 0:
            return None
        return ctx.book.impact(intent.side, intent.size)

    def band_edge(self, side: str, ctx: RiskContext) -> int:
        """The furthest price through the oracle the band allows, on the tick
        (rounded toward the oracle)."""
        band, oracle, tick = self.limits.price_band_bps, ctx.oracle_price, max(1, ctx.tick_size)
        if side == "buy":
            return oracle * (10_000 + band) // 10_000 // tick * tick
        return -(-oracle * (10_000 - band) // 10_000 // tick) * tick

    def protective_price(self, intent: OrderIntent, ctx: RiskContext) -> int:
        """The limit a market order is sent with so that the venue fills it no
        further than the band (0 when there is no oracle to band against). A
        tighter limit the trader gave is kept."""
        if intent.type != "market" or ctx.oracle_price <= 0:
            return intent.price
        edge = self.band_edge(intent.side, ctx)
        if intent.price > 0:
            return min(edge, intent.price) if intent.side == "buy" else max(edge, intent.price)
        return edge

    def order_notional(self, intent: OrderIntent, ctx: RiskContext) -> int:
        """Quote notional at price precision. A market order is valued at the
        fills walking the book would give (what the book cannot fill, at its
        protective limit), never at the touch alone."""
        impact = self.walk(intent, ctx)
        if impact is None:
            return self._notional(intent.size, self.reference_price(intent, ctx), ctx)
        rest = intent.size - impact.filled
        cap = self.protective_price(intent, ctx) or impact.worst_price
        notional: int = (impact.notional + rest * cap) // 10**ctx.size_decimals
        return notional

    def _notional(self, base: int, price: int, ctx: RiskContext) -> int:
        notional: int = abs(base) * price // 10**ctx.size_decimals
        return notional

    def _limit_quote(self, value: Decimal, ctx: RiskContext) -> int:
        return int(value.scaleb(ctx.price_decimals))

    def _new_base(self, intent: OrderIntent, ctx: RiskContext) -> int:
        return ctx.position_base + (intent.size if intent.side == "buy" else -intent.size)

    def _worst_case(self, ctx: RiskContext, bids: int, asks: int) -> int:
        """The largest |position| resting orders could leave (Drift's worst case)."""
        return max(abs(ctx.position_base + bids), abs(ctx.position_base - asks))

    def _check_kill_switch(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        if self._kill_reason is not None:
            return (
                "kill_switch",
                f"kill switch is on ({self._kill_reason}): new orders are halted; release it to trade again",
                None,
                None,
            )
        return None

    def _check_size(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        if intent.size <= 0:
            return "order_size", "order size must be greater than zero", None, None
        kind = intent.type.replace("_", "-")
        if intent.type in {"limit", "stop_limit", "take_profit_limit"} and intent.price <= 0:
            return "order_params", f"a {kind} order needs a limit price above zero", None, None
        if intent.type not in {"market", "limit"} and intent.trigger_price <= 0:
            return "order_params", f"a {kind} order needs a trigger price above zero", None, None
        return None

    def _check_data_age(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        """Stale data makes every other check meaningless: a venue that stopped
        sending may be down, and its last prices say nothing about now."""
        if ctx.data_age_ns is None:
            return None
        limit_ns = int(self.limits.max_data_age_s.scaleb(9))
        if ctx.data_age_ns > limit_ns:
            return (
                "max_data_age_s",
                f"market data for {intent.market} is {_age(ctx.data_age_ns)} old, over the max data age "
                f"{_age(limit_ns)} by {_age(ctx.data_age_ns - limit_ns)}; wait for the venue's data to resume",
                self.limits.max_data_age_s,
                Decimal(ctx.data_age_ns - limit_ns).scaleb(-9),
            )
        return None

    def _check_reduce_only(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        if not intent.reduce_only:
            return None
        pos = ctx.position_base
        d = ctx.size_decimals
        reduces = (intent.side == "buy" and pos < 0) or (intent.side == "sell" and pos > 0)
        if not reduces:
            what = "no position" if pos == 0 else f"a {'long' if pos > 0 else 'short'} of {_size(abs(pos), d)}"
            return (
                "reduce_only",
                f"reduce-only {intent.side} cannot reduce {what}; "
                f"it would open or increase the position by {_size(intent.size, d)}",
                Decimal(0),
                _quote(intent.size, d),
            )
        if intent.size > abs(pos):
            return (
                "reduce_only",
                f"reduce-only {intent.side} of {_size(intent.size, d)} would flip the "
                f"{'long' if pos > 0 else 'short'} of {_size(abs(pos), d)}; "
                f"it exceeds the position by {_size(intent.size - abs(pos), d)}",
                _quote(abs(pos), d),
                _quote(intent.size - abs(pos), d),
            )
        return None

    def _check_price_band(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        """Fat-finger guard: a price may not be further through the oracle than
        the band in the direction that costs money (buying above, selling
        below). A market order is checked at the worst price walking the book
        for its size would reach (at the touch when there is no book)."""
        oracle = ctx.oracle_price
        if oracle <= 0:
            return (
                "price_band",
                "no oracle price for this market yet; wait for market data before trading",
                self.limits.price_band_bps,
                None,
            )
        anchor, anchor_name = oracle, "the oracle"
        if intent.type in ("stop_limit", "take_profit_limit") and intent.trigger_price > 0:
            # a triggered limit is judged against the price that triggers it
            anchor, anchor_name = intent.trigger_price, "the trigger"
        impact = self.walk(intent, ctx)
        buy = intent.side == "buy"
        if impact is not None:
            price = impact.worst_price
            if intent.price > 0:  # the trader's own protective limit stops the fills there
                price = min(price, intent.price) if buy else max(price, intent.price)
            what = f"market {intent.side} of {_size(intent.size, ctx.size_decimals)} would fill up to"
        elif intent.price > 0:
            price, what = intent.price, "limit price"
        elif intent.type == "market":
            touch = ctx.best_ask if buy else ctx.best_bid
            if not touch:
                return None  # nothing to take; the venue will reject or rest nothing
            price, what = touch, "best " + ("ask" if buy else "bid")
        else:
            return None  # trigger orders without a limit fill at market when triggered
        through = price - anchor if buy else anchor - price
        if through <= 0:
            return None
        # compare through / anchor with band / 10_000 without dividing
        band = self.limits.price_band_bps
        if through * 10_000 > band * anchor:
            dev_bps = Decimal(through * 10_000) / anchor
            p = ctx.price_decimals
            side_word = "above" if buy else "below"
            if impact is None:
                message = (
                    f"{what} {_money(price, p)} is {_pct_bps(dev_bps)} {side_word} {anchor_name} {_money(anchor, p)}; "
                    f"the band is {_pct_bps(band)}, exceeded by {_pct_bps(dev_bps - band)}"
                )
            else:
                message = (
                    f"{what} {_money(price, p)}, {_pct_bps(dev_bps)} {side_word} {anchor_name} {_money(anchor, p)} "
                    f"(average fill {_money(int(impact.avg_price), p)}); the band is {_pct_bps(band)}, exceeded by "
                    f"{_pct_bps(dev_bps - band)}; use a limit order or a smaller size"
                )
            return (
                "price_band",
                message,
                band,
                (dev_bps - band).quantize(Decimal("0.01")),
            )
        return None

    def _check_order_notional(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        notional = self.order_notional(intent, ctx)
        limit = self._limit_quote(self.limits.max_order_notional, ctx)
        if notional > limit:
            p = ctx.price_decimals
            how = " (walking the book for its size)" if self.walk(intent, ctx) is not None else ""
            return (
                "max_order_notional",
                f"order notional {_money(notional, p)}{how} exceeds the max order notional "
                f"{_money(limit, p)} by {_money(notional - limit, p)}",
                _quote(limit, p),
                _quote(notional - limit, p),
            )
        return None

    def _check_position_notional(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        """The position the account could reach if every resting order on the
        order's side filled too (Drift's worst case), valued at the oracle."""
        before = self._worst_case(ctx, ctx.open_bids, ctx.open_asks)
        if intent.reduce_only:
            return None  # reduce-only never adds exposure (the reduce-only check caps it)
        bids = ctx.open_bids + (intent.size if intent.side == "buy" else 0)
        asks = ctx.open_asks + (intent.size if intent.side == "sell" else 0)
        after = self._worst_case(ctx, bids, asks)
        if after <= before and abs(self._new_base(intent, ctx)) <= abs(ctx.position_base):
            return None  # reducing is always allowed
        value = self._notional(after, ctx.oracle_price, ctx)
        cap = self.limits.max_position_notional_per_market.get(intent.market, self.limits.max_position_notional)
        limit = self._limit_quote(cap, ctx)
        if value > limit:
            p = ctx.price_decimals
            resting = ctx.open_bids if intent.side == "buy" else ctx.open_asks
            with_orders = " with the resting orders on that side" if resting else ""
            return (
                "max_position_notional",
                f"position in {intent.market} would be {_money(value, p)}{with_orders}, over the max position "
                f"notional {_money(limit, p)} by {_money(value - limit, p)}",
                _quote(limit, p),
                _quote(value - limit, p),
            )
        return None

    def _check_leverage(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        new_base = self._new_base(intent, ctx)
        if abs(new_base) <= abs(ctx.position_base):
            return None
        after = (
            ctx.account_notional
            - self._notional(ctx.position_base, ctx.oracle_price, ctx)
            + self._notional(new_base, ctx.oracle_price, ctx)
        )
        max_bps = int(self.limits.max_leverage * 10_000)
        if ctx.equity <= 0:
            return (
                "max_leverage",
                f"account equity is {_money(ctx.equity, ctx.price_decimals)}: no order may add exposure "
                f"(max leverage {_lev(max_bps)}); deposit collateral or reduce positions",
                self.limits.max_leverage,
                None,
            )
        if after * 10_000 > max_bps * ctx.equity:
            lev = after * 10_000 // ctx.equity
            return (
                "max_leverage",
                f"account leverage would be {_lev(lev)}, over the max leverage {_lev(max_bps)} "
                f"by {_lev(lev - max_bps)}",
                self.limits.max_leverage,
                Decimal(lev - max_bps) / 10_000,
            )
        return None

    def _check_open_orders(self, intent: OrderIntent, ctx: RiskContext, legs: int = 0) -> _Rejection | None:
        adds = (1 if _rests(intent) else 0) + legs
        limit = self.limits.max_open_orders
        if adds and ctx.open_orders + adds > limit:
            what = "one more" if adds == 1 else f"{adds} more (the order and its {legs} bracket leg{'s' if legs > 1 else ''})"
            if adds > 1 and not _rests(intent):
                what = f"its {legs} bracket leg{'s' if legs > 1 else ''}"
            return (
                "max_open_orders",
                f"{ctx.open_orders} orders are open; {what} exceed{'s' if adds == 1 else ''} the max open orders "
                f"{limit} by {ctx.open_orders + adds - limit}",
                limit,
                ctx.open_orders + adds - limit,
            )
        return None

    def _check_rate(self, intent: OrderIntent, ctx: RiskContext, pending: int = 0) -> _Rejection | None:
        window = self._accepted_ts
        while window and window[0] <= ctx.ts - NS_PER_S:
            window.popleft()
        limit = self.limits.max_orders_per_second
        n = len(window) + pending
        if n >= limit:
            return (
                "max_orders_per_second",
                f"{n} orders in the last second; one more exceeds the max orders per second "
                f"{limit} by {n + 1 - limit}",
                limit,
                n + 1 - limit,
            )
        return None


def _rests(intent: OrderIntent) -> bool:
    return intent.type in _RESTING_TYPES and not (intent.type == "limit" and intent.ioc)
