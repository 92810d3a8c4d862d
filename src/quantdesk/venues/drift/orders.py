"""QuantDesk order intents as driftpy ``OrderParams`` for the Drift perp engine.

Trigger orders: a stop buys above / sells below its trigger price (it guards
a short or a long); a take-profit does the opposite. IOC is Drift's
``IMMEDIATE_OR_CANCEL`` bit flag; post-only means "must post" (the program
rejects the order rather than let it take).
"""

from __future__ import annotations

from typing import Any

from quantdesk.core.model import OrderIntent
from quantdesk.venues.base import VenueError

_TRIGGER_TYPES = {"stop_market", "stop_limit", "take_profit_market", "take_profit_limit"}


class OrderRejected(VenueError):
    pass


def order_params(intent: OrderIntent, market_index: int, user_order_id: int) -> Any:
    from driftpy.types import (
        MarketType,
        OrderParams,
        OrderParamsBitFlag,
        OrderTriggerCondition,
        OrderType,
        PositionDirection,
        PostOnlyParams,
    )

    if intent.size <= 0:
        raise OrderRejected(f"order size must be positive, got {intent.size}")
    if not 0 < user_order_id < 256:
        raise OrderRejected("user order ids are 1-255 on Drift")
    kind = intent.type
    if kind in ("limit", "stop_limit", "take_profit_limit") and intent.price <= 0:
        raise OrderRejected(f"a {kind.replace('_', ' ')} order needs a price")
    if kind in _TRIGGER_TYPES and intent.trigger_price <= 0:
        raise OrderRejected(f"a {kind.replace('_', ' ')} order needs a trigger price")
    if intent.post_only and kind != "limit":
        raise OrderRejected("post-only applies to limit orders")
    if intent.post_only and intent.ioc:
        raise OrderRejected("an order cannot be both post-only and immediate-or-cancel")

    order_type = {
        "market": OrderType.Market(),
        "limit": OrderType.Limit(),
        "stop_market": OrderType.TriggerMarket(),
        "take_profit_market": OrderType.TriggerMarket(),
        "stop_limit": OrderType.TriggerLimit(),
        "take_profit_limit": OrderType.TriggerLimit(),
    }[kind]
    buy = intent.side == "buy"
    trigger_condition = OrderTriggerCondition.Above()
    if kind in _TRIGGER_TYPES:
        stop = kind.startswith("stop")
        above = buy if stop else not buy
        trigger_condition = OrderTriggerCondition.Above() if above else OrderTriggerCondition.Below()

    return OrderParams(
        order_type=order_type,
        base_asset_amount=intent.size,
        market_index=market_index,
        direction=PositionDirection.Long() if buy else PositionDirection.Short(),
        market_type=MarketType.Perp(),
        user_order_id=user_order_id,
        price=intent.price if kind not in ("market", "stop_market", "take_profit_market") else 0,
        reduce_only=intent.reduce_only,
        post_only=PostOnlyParams.MustPostOnly() if intent.post_only else PostOnlyParams.NONE(),
        bit_flags=OrderParamsBitFlag.IMMEDIATE_OR_CANCEL if intent.ioc else 0,
        trigger_price=intent.trigger_price if kind in _TRIGGER_TYPES else None,
        trigger_condition=trigger_condition,
    )
