"""How a netted QuantDesk order reads as Jupiter position requests, by hand on the
fixture's SOL custody at $118, and the outcome of a request judged from chain state."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from quantdesk.core.model import Order, OrderIntent
from quantdesk.venues.jupiter import request_plan as rp
from quantdesk.venues.jupiter.accounts import decoder
from quantdesk.venues.jupiter.preview import Followed
from quantdesk.venues.jupiter.request_follower import judge
from quantdesk.venues.jupiter.views import CustodyView, PositionView

from support.jupiter_fixtures import LONG_POSITION, SOL_CUSTODY, data
from support.jupiter_program import stable_custody

SOL = 10**9
TERMS = rp.Terms(Decimal(2), 50)


def state(**over) -> rp.MarketState:
    custody = CustodyView.from_fields(decoder().decode(data(SOL_CUSTODY)).fields, SOL_CUSTODY)
    stable = CustodyView.from_fields(decoder().decode(stable_custody(data(SOL_CUSTODY))).fields, "USDC-CUSTODY")
    base = dict(symbol="SOL-PERP", custody=custody, stable=stable, stable_symbol="USDC", oracle_price=118_000_000,
                size_decimals=9)  # fmt: skip
    base.update(over)
    return rp.MarketState(**base)


def long_position() -> PositionView:
    # the fixture's long: $1,183.738004 entered at $117.515445, about 10.073 SOL
    return PositionView.from_fields(decoder().decode(data(LONG_POSITION)).fields, LONG_POSITION)


def intent(side: str, size: int, type_: str = "market", **kw) -> OrderIntent:
    return OrderIntent("jupiter", "SOL-PERP", side, type_, size, **kw)  # type: ignore[arg-type]


def test_an_open_posts_size_over_leverage_in_the_token_the_side_posts():
    (long,) = rp.plan_order(intent("buy", 2 * SOL), state(), TERMS)
    # 2 SOL at $118 = $236; 2x: $118 of collateral = 1 SOL; no worse than $118 + 0.5%
    assert (long.kind, long.side, long.size_usd, long.collateral_usd) == ("open", "long", 236_000_000, 118_000_000)
    assert long.collateral_tokens == SOL and long.price == 118_590_000
    (short,) = rp.plan_order(intent("sell", 2 * SOL), state(), TERMS)
    assert short.side == "short" and short.collateral_tokens == 118_000_000  # USDC, 6 decimals
    assert short.price == 117_410_000  # no lower than $118 - 0.5%
    # the router's price band is kept where it is tighter
    (tight,) = rp.plan_order(intent("buy", SOL, price=118_100_000), state(), TERMS)
    assert tight.price == 118_100_000


def test_a_sell_against_the_long_reduces_it_never_flips_it():
    m = state(long=long_position())
    held = m.base(long_position())
    (part,) = rp.plan_order(intent("sell", held // 2), m, TERMS)
    assert part.kind == "close" and part.size_usd == 1_183_738_004 * (held // 2) // held
    (whole,) = rp.plan_order(intent("sell", held), m, TERMS)
    assert whole.kind == "close" and whole.size_usd is None  # the entire position
    with pytest.raises(rp.PlanError, match="cannot flip a position in one request"):
        rp.plan_order(intent("sell", held + 1), m, TERMS)
    with pytest.raises(rp.PlanError, match="no short SOL-PERP position to reduce"):
        rp.plan_order(intent("buy", SOL, reduce_only=True), m, TERMS)


def test_stops_and_take_profits_close_a_position_on_the_right_side_of_the_price():
    m = state(long=long_position())
    (sl,) = rp.plan_order(intent("sell", 100 * SOL, "stop_market", trigger_price=110_000_000), m, TERMS)
    assert (sl.kind, sl.side, sl.size_usd, sl.price) == ("stop_loss", "long", None, 110_000_000)
    with pytest.raises(rp.PlanError, match="triggers above the price: \\$110.00 is not above the oracle \\$118.00"):
        rp.plan_order(intent("sell", SOL, "take_profit_market", trigger_price=110_000_000), m, TERMS)
    entry, tp, stop = rp.plan_order(intent("buy", SOL), state(), TERMS, take_profit=130_000_000, stop_loss=110_000_000)
    assert (tp.kind, tp.side, stop.kind) == ("take_profit", "long", "stop_loss")


def test_limits_and_impossible_leverage_are_refused():
    with pytest.raises(rp.PlanError, match="fills at the oracle price"):
        rp.plan_order(intent("buy", SOL, "limit", price=117_000_000), state(), TERMS)
    low = state(custody=replace(state().custody, max_leverage_bps=15_000))  # 1.5x
    with pytest.raises(rp.PlanError, match="leverage 2x is over SOL-PERP's maximum of 1.5x"):
        rp.plan_order(intent("buy", SOL), low, TERMS)
    with pytest.raises(rp.PlanError, match="would take all of the position's"):
        rp.plan_collateral(state(long=long_position()), "long", -50_000_000)
    deposit = rp.plan_collateral(state(long=long_position()), "long", 59_000_000)
    assert deposit.kind == "deposit" and deposit.collateral_tokens == SOL // 2


def _followed(kind: str, before: tuple[int, int] | None, deadline: int | None = 1_000) -> Followed:
    order = Order("jupiter", "SOL-PERP", "o", "buy", "market", SOL, ts=900 * 10**9)
    return Followed(order, "req", "pos", kind, "long", kind in ("take_profit", "stop_loss"), None, 0, deadline_s=deadline,
                    before=before)  # fmt: skip


def test_a_requests_outcome_is_read_from_its_position():
    grown = replace(long_position(), size_usd=2_000_000_000)
    assert judge(_followed("open", (1_183_738_004, 43_133_504)), None, grown, 950) == "executed"
    assert judge(_followed("open", (1_183_738_004, 43_133_504)), None, long_position(), 950) == "cancelled"
    assert judge(_followed("open", (1_183_738_004, 43_133_504)), None, long_position(), 1_001) == "expired"
    assert judge(_followed("open", None), {"executed": False}, None, 950) == "waiting"
    assert judge(_followed("open", None), {"executed": False}, None, 1_001) == "expired"
    assert judge(_followed("close", (1_183_738_004, 1)), None, None, 950) == "executed"  # closed: the account is gone
    more = replace(long_position(), collateral_usd=50_000_000)
    assert judge(_followed("deposit", (1_183_738_004, 43_133_504)), None, more, 950) == "executed"
    assert judge(_followed("stop_loss", (1_183_738_004, 1), None), {"executed": True}, None, 5_000) == "executed"
