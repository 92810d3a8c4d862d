import pytest

from quantdesk.core.model import Market
from quantdesk.trading.builders import OrderShapeError, scale_orders

SOL_PERP = Market("sim-drift", "SOL-PERP", "SOL", "USDC", "clob", tick_size=1_000, lot_size=10_000_000)
SOL = 10**9


def test_scale_orders_spread_evenly_and_split_the_size():
    # 1 SOL = 100 lots over 5 orders from $100 down to $98: 20 lots each at 100, 99.5, 99, 98.5, 98
    orders = scale_orders(SOL_PERP, "buy", SOL, 100_000_000, 98_000_000, 5, post_only=True, client_id="s")
    assert [o.price for o in orders] == [100_000_000, 99_500_000, 99_000_000, 98_500_000, 98_000_000]
    assert [o.size for o in orders] == [200_000_000] * 5
    assert all(o.type == "limit" and o.post_only and o.side == "buy" for o in orders)
    assert [o.client_id for o in orders] == ["s-1", "s-2", "s-3", "s-4", "s-5"]


def test_scale_orders_round_to_ticks_and_lots():
    # 0.13 SOL = 13 lots over 3: 5, 4, 4 (the extra lot nearest the start); prices snap to $0.001
    orders = scale_orders(SOL_PERP, "sell", 130_000_000, 100_000_000, 100_010_001, 3)
    assert [o.size for o in orders] == [50_000_000, 40_000_000, 40_000_000]
    assert [o.price for o in orders] == [100_000_000, 100_005_000, 100_010_000]
    assert sum(o.size for o in orders) == 130_000_000


def test_scale_orders_refuse_impossible_shapes():
    with pytest.raises(OrderShapeError, match="at least 3 lots"):
        scale_orders(SOL_PERP, "buy", 20_000_000, 100_000_000, 99_000_000, 3)
    with pytest.raises(OrderShapeError, match="too narrow"):
        scale_orders(SOL_PERP, "buy", SOL, 100_000_000, 100_001_000, 5)
    with pytest.raises(OrderShapeError, match="at least one"):
        scale_orders(SOL_PERP, "buy", SOL, 100_000_000, 99_000_000, 0)
