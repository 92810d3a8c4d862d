"""An order intent read as Jupiter Perps position requests: which request, how big, at what limit.

QuantDesk orders are netted per market (a buy reduces a short); Jupiter keeps
a long and a short apart and sizes them in USD. So:

- a market buy with no short open opens (or adds to) the long: ``size`` base
  units at the oracle price, collateral ``size / leverage`` in the custody's
  own token (a long posts what it trades); a market sell opens the short,
  collateral in the configured stablecoin. The request fills no worse than
  ``slippage_bps`` from the oracle (tighter if the order carries a limit, as
  the router's price band does);
- a market buy with a short open reduces the short (all of it when the size
  covers it), a sell with a long open the long; bigger than the position is
  refused: Jupiter cannot flip a position in one request;
- a stop or take-profit (at market) on the opposite side of a position is a
  trigger request on it; with an opening order, ``take_profit`` and
  ``stop_loss`` become trigger requests on the position it opens;
- limit orders are refused: requests fill at the oracle price.

Collateral changes are their own plans (``plan_collateral``). Pure: the caller
supplies the market's state; a refusal is a ``PlanError`` saying what to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from typing import Literal

from quantdesk.core.model import OrderIntent
from quantdesk.venues.jupiter.views import CustodyView, PositionSide, PositionView

USD = 1_000_000
BPS = 10_000
Kind = Literal["open", "close", "deposit", "withdraw", "take_profit", "stop_loss"]


class PlanError(ValueError):
    """An order Jupiter Perps cannot take as asked; the message says what to change."""


@dataclass(frozen=True)
class MarketState:
    """What planning needs to know of one market now."""

    symbol: str
    custody: CustodyView
    stable: CustodyView  # the collateral custody a short posts
    stable_symbol: str
    oracle_price: int  # USD 1e6
    size_decimals: int
    long: PositionView | None = None  # the wallet's open long, if any
    short: PositionView | None = None

    def position(self, side: PositionSide) -> PositionView | None:
        return self.long if side == "long" else self.short

    def base(self, p: PositionView) -> int:
        """A position's size in base units at its entry price (as the Positions pane shows it)."""
        return p.size_usd * 10**self.size_decimals // p.price if p.price > 0 else 0


@dataclass(frozen=True)
class RequestPlan:
    kind: Kind
    side: PositionSide  # the position's side the request changes
    size_usd: int | None = None  # None for a close: the entire position
    collateral_tokens: int = 0  # posted by an open or a deposit, in the collateral custody's token
    collateral_usd: int = 0  # posted (at the oracle) or withdrawn
    price: int = 0  # the worst fill price (market), or the trigger price
    base: int = 0  # the order's size in base units, for the Orders pane

    def collateral(self, m: MarketState) -> CustodyView:
        return m.custody if self.side == "long" else m.stable


@dataclass(frozen=True)
class Terms:
    """The venue's trading settings."""

    leverage: Decimal
    slippage_bps: int


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def _usd(value: int) -> str:
    return f"${Decimal(value).scaleb(-6):,.2f}"


def worst_price(m: MarketState, buying: bool, terms: Terms, limit: int = 0) -> int:
    """The furthest fill a market request accepts: the slippage from the oracle, or
    the order's own limit where that is tighter."""
    if buying:
        edge = m.oracle_price * (BPS + terms.slippage_bps) // BPS
        return min(edge, limit) if limit > 0 else edge
    edge = -(-m.oracle_price * (BPS - terms.slippage_bps) // BPS)
    return max(edge, limit) if limit > 0 else edge


def collateral_tokens(m: MarketState, side: PositionSide, usd: int) -> int:
    """``usd`` of collateral in the token the side posts (rounded up): the traded
    token at the oracle for a long, the stablecoin at one dollar for a short."""
    if side == "long":
        return _ceil(Decimal(usd) * 10**m.custody.decimals / m.oracle_price)
    return _ceil(Decimal(usd) * 10**m.stable.decimals / USD)


def _open(intent: OrderIntent, m: MarketState, side: PositionSide, terms: Terms) -> RequestPlan:
    c = m.custody
    max_lev = Decimal(c.max_leverage_bps) / BPS
    if c.max_leverage_bps and terms.leverage > max_lev:
        raise PlanError(f"leverage {terms.leverage:f}x is over {m.symbol}'s maximum of {max_lev:f}x; "
                        "lower venues.jupiter.leverage")
    size_usd = intent.size * m.oracle_price // 10**m.size_decimals
    if size_usd <= 0:
        raise PlanError("the order is worth less than one micro-dollar; raise the size")
    if c.max_position_size_usd and size_usd > c.max_position_size_usd:
        raise PlanError(f"{_usd(size_usd)} is over {m.symbol}'s maximum position size of "
                        f"{_usd(c.max_position_size_usd)}; lower the size")
    collateral_usd = _ceil(Decimal(size_usd) / terms.leverage)
    price = worst_price(m, intent.side == "buy", terms, intent.price)
    return RequestPlan("open", side, size_usd, collateral_tokens(m, side, collateral_usd), collateral_usd, price, intent.size)


def _reduce(intent: OrderIntent, m: MarketState, p: PositionView, terms: Terms) -> RequestPlan:
    assert p.side is not None
    held = m.base(p)
    if intent.size > held:
        raise PlanError(
            f"{intent.side} of {Decimal(intent.size).scaleb(-m.size_decimals).normalize():f} is more than the "
            f"{p.side} of {Decimal(held).scaleb(-m.size_decimals).normalize():f} it would reduce: Jupiter keeps longs "
            "and shorts apart and cannot flip a position in one request; close it first, then open the other side"
        )
    size = None if intent.size == held else p.size_usd * intent.size // held
    price = worst_price(m, intent.side == "buy", terms, intent.price)
    return RequestPlan("close", p.side, size, price=price, base=intent.size)


def _trigger(kind: Kind, m: MarketState, side: PositionSide, trigger: int, size_usd: int | None, base: int) -> RequestPlan:
    above = (kind == "take_profit") == (side == "long")
    what = "take-profit" if kind == "take_profit" else "stop-loss"
    if trigger <= 0:
        raise PlanError(f"a {what} needs a trigger price above zero")
    if above and trigger <= m.oracle_price or not above and trigger >= m.oracle_price:
        where = "above" if above else "below"
        raise PlanError(f"a {what} on the {side} triggers {where} the price: {_usd(trigger)} is not {where} the oracle "
                        f"{_usd(m.oracle_price)} (it would close the position at once)")
    return RequestPlan(kind, side, size_usd, price=trigger, base=base)


def plan_order(
    intent: OrderIntent, m: MarketState, terms: Terms, *, take_profit: int = 0, stop_loss: int = 0
) -> list[RequestPlan]:
    """The requests of one order, entry first. Raises PlanError."""
    if intent.size <= 0:
        raise PlanError("the size must be above zero")
    if intent.type in ("limit", "stop_limit", "take_profit_limit"):
        raise PlanError("Jupiter Perps fills at the oracle price: send a market order (it fills no further than "
                        f"{terms.slippage_bps} bps from the oracle) or a stop / take-profit at market")
    buying = intent.side == "buy"
    opposite: PositionSide = "short" if buying else "long"
    held = m.position(opposite)
    if intent.type in ("stop_market", "take_profit_market"):
        if take_profit or stop_loss:
            raise PlanError("a stop or take-profit cannot carry a bracket of its own")
        if held is None:
            word = "stop" if intent.type == "stop_market" else "take-profit"
            raise PlanError(f"a {word} on Jupiter closes a position: there is no {opposite} {m.symbol} to "
                            f"{'buy back' if buying else 'sell'}; open one first, or send the {word} with the opening order")
        base = m.base(held)
        size = None if intent.size >= base else held.size_usd * intent.size // base
        kind: Kind = "take_profit" if intent.type == "take_profit_market" else "stop_loss"
        return [_trigger(kind, m, opposite, intent.trigger_price, size, min(intent.size, base))]
    if held is not None:
        if take_profit or stop_loss:
            raise PlanError(f"take-profit and stop-loss go with an opening order; this {intent.side} reduces the {opposite}")
        return [_reduce(intent, m, held, terms)]
    if intent.reduce_only:
        raise PlanError(f"reduce-only {intent.side}: there is no {opposite} {m.symbol} position to reduce")
    side: PositionSide = "long" if buying else "short"
    plans = [_open(intent, m, side, terms)]
    if take_profit:
        plans.append(_trigger("take_profit", m, side, take_profit, None, intent.size))
    if stop_loss:
        plans.append(_trigger("stop_loss", m, side, stop_loss, None, intent.size))
    return plans


def plan_collateral(m: MarketState, side: PositionSide, change_usd: int) -> RequestPlan:
    """Add (``change_usd`` > 0) or take out collateral of the open ``side`` position."""
    p = m.position(side)
    if p is None:
        raise PlanError(f"there is no {side} {m.symbol} position to change the collateral of")
    if change_usd == 0:
        raise PlanError("the collateral change must not be zero")
    if change_usd > 0:
        return RequestPlan("deposit", side, 0, collateral_tokens(m, side, change_usd), change_usd)
    if -change_usd >= p.collateral_usd:
        raise PlanError(f"withdrawing {_usd(-change_usd)} would take all of the position's {_usd(p.collateral_usd)} "
                        "of collateral; close the position instead")
    return RequestPlan("withdraw", side, 0, collateral_usd=-change_usd)
