"""Pre-trade risk checks and the kill switch.

Every order intent passes ``RiskEngine.check`` before it reaches a venue or a
signer. The engine is pure: the caller passes what it knows about the market
and the account (``RiskContext``, including the time), and gets back a
``RiskDecision`` that names the check and says by how much a limit was missed.
The only state kept is the kill switch and the timestamps of recently accepted
orders (for the orders-per-second window).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from quantdesk.core.model import OrderIntent

NS_PER_S = 1_000_000_000
_RESTING_TYPES = {"limit", "stop_market", "stop_limit", "take_profit_market", "take_profit_limit"}


class RiskLimits(BaseModel):
    """The ``[risk]`` section of the config. Money in quote units (USD), as a
    trader writes it; converted to integers at the market's precision."""

    model_config = ConfigDict(extra="forbid")

    max_order_notional: Decimal = Field(Decimal(50_000), gt=0, description="largest single order, quote")
    max_position_notional: Decimal = Field(
        Decimal(200_000), gt=0, description="largest position per market, quote, valued at the oracle"
    )
    max_position_notional_per_market: dict[str, Decimal] = Field(
        default_factory=dict, description="overrides by market symbol, e.g. {\"BTC-PERP\" = 500000}"
    )
    max_leverage: Decimal = Field(Decimal(10), gt=0, description="account leverage after the order, x")
    price_band_bps: int = Field(
        500, gt=0, le=10_000, description="how far a price may be through the oracle, basis points"
    )
    max_open_orders: int = Field(50, ge=0)
    max_orders_per_second: int = Field(10, ge=1)
    kill_switch: bool = Field(False, description="start with new orders halted")


class RiskDecision(msgspec.Struct, frozen=True, tag="risk"):
    accepted: bool
    check: str  # the check that rejected (the limit's name); "" when accepted
    message: str  # for the trader: which limit and by how much
    client_id: str = ""
    ts: int = 0
    limit_value: str = ""  # the configured limit, exact, in the limit's own unit (USD, x, bps, count)
    excess: str = ""  # by how much the order went over it, same unit


_Rejection = tuple[str, str, object, object]  # check, message, limit value, excess


@dataclass(frozen=True, slots=True)
class RiskContext:
    """What the engine needs to know at the moment of the check."""

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

    def check(self, intent: OrderIntent, ctx: RiskContext) -> RiskDecision:
        """Run every check in order and return the first rejection, or an
        acceptance (which counts toward the orders-per-second window)."""
        for rule in (
            self._check_kill_switch,
            self._check_size,
            self._check_reduce_only,
            self._check_price_band,
            self._check_order_notional,
            self._check_position_notional,
            self._check_leverage,
            self._check_open_orders,
            self._check_rate,
        ):
            rejection = rule(intent, ctx)
            if rejection is not None:
                check, message, limit_value, excess = rejection
                return RiskDecision(
                    False, check, message, intent.client_id, ctx.ts, _exact(limit_value), _exact(excess)
                )
        self._accepted_ts.append(ctx.ts)
        return RiskDecision(True, "", "accepted", intent.client_id, ctx.ts)

    def reference_price(self, intent: OrderIntent, ctx: RiskContext) -> int:
        """The price an order is valued at: its limit, else its trigger, else
        the touch it would take, else the oracle."""
        if intent.price > 0:
            return intent.price
        if intent.trigger_price > 0:
            return intent.trigger_price
        touch = ctx.best_ask if intent.side == "buy" else ctx.best_bid
        return touch if touch else ctx.oracle_price

    def _notional(self, base: int, price: int, ctx: RiskContext) -> int:
        return abs(base) * price // 10**ctx.size_decimals

    def _limit_quote(self, value: Decimal, ctx: RiskContext) -> int:
        return int(value.scaleb(ctx.price_decimals))

    def _new_base(self, intent: OrderIntent, ctx: RiskContext) -> int:
        return ctx.position_base + (intent.size if intent.side == "buy" else -intent.size)

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
        below). A market order is checked at the touch it would take."""
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
        if intent.price > 0:
            price, what = intent.price, "limit price"
        elif intent.type == "market":
            touch = ctx.best_ask if intent.side == "buy" else ctx.best_bid
            if not touch:
                return None  # nothing to take; the venue will reject or rest nothing
            price, what = touch, "best " + ("ask" if intent.side == "buy" else "bid")
        else:
            return None  # trigger orders without a limit fill at market when triggered
        through = price - anchor if intent.side == "buy" else anchor - price
        if through <= 0:
            return None
        # compare through / anchor with band / 10_000 without dividing
        band = self.limits.price_band_bps
        if through * 10_000 > band * anchor:
            dev_bps = Decimal(through * 10_000) / anchor
            p = ctx.price_decimals
            return (
                "price_band",
                f"{what} {_money(price, p)} is {_pct_bps(dev_bps)} "
                f"{'above' if intent.side == 'buy' else 'below'} {anchor_name} {_money(anchor, p)}; "
                f"the band is {_pct_bps(band)}, exceeded by {_pct_bps(dev_bps - band)}",
                band,
                (dev_bps - band).quantize(Decimal("0.01")),
            )
        return None

    def _check_order_notional(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        notional = self._notional(intent.size, self.reference_price(intent, ctx), ctx)
        limit = self._limit_quote(self.limits.max_order_notional, ctx)
        if notional > limit:
            p = ctx.price_decimals
            return (
                "max_order_notional",
                f"order notional {_money(notional, p)} exceeds the max order notional "
                f"{_money(limit, p)} by {_money(notional - limit, p)}",
                _quote(limit, p),
                _quote(notional - limit, p),
            )
        return None

    def _check_position_notional(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        new_base = self._new_base(intent, ctx)
        if abs(new_base) <= abs(ctx.position_base):
            return None  # reducing is always allowed
        value = self._notional(new_base, ctx.oracle_price, ctx)
        cap = self.limits.max_position_notional_per_market.get(intent.market, self.limits.max_position_notional)
        limit = self._limit_quote(cap, ctx)
        if value > limit:
            p = ctx.price_decimals
            return (
                "max_position_notional",
                f"position in {intent.market} would be {_money(value, p)}, over the max position "
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

    def _check_open_orders(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        rests = intent.type in _RESTING_TYPES and not (intent.type == "limit" and intent.ioc)
        if rests and ctx.open_orders + 1 > self.limits.max_open_orders:
            return (
                "max_open_orders",
                f"{ctx.open_orders} orders are open; one more exceeds the max open orders "
                f"{self.limits.max_open_orders} by {ctx.open_orders + 1 - self.limits.max_open_orders}",
                self.limits.max_open_orders,
                ctx.open_orders + 1 - self.limits.max_open_orders,
            )
        return None

    def _check_rate(self, intent: OrderIntent, ctx: RiskContext) -> _Rejection | None:
        window = self._accepted_ts
        while window and window[0] <= ctx.ts - NS_PER_S:
            window.popleft()
        limit = self.limits.max_orders_per_second
        if len(window) >= limit:
            return (
                "max_orders_per_second",
                f"{len(window)} orders in the last second; one more exceeds the max orders per second "
                f"{limit} by {len(window) + 1 - limit}",
                limit,
                len(window) + 1 - limit,
            )
        return None
