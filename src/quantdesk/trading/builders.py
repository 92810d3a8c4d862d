"""Intents built from one ticket: scale orders (N limits over a price range).

Pure functions at market precision; the ticket previews the result and each
intent then goes through the risk engine like any other order.
"""

from __future__ import annotations

from quantdesk.core.model import Market, OrderIntent, Side


class OrderShapeError(ValueError):
    """The ticket's numbers cannot make the orders asked for; says why."""


def scale_orders(
    market: Market,
    side: Side,
    total_size: int,
    price_from: int,
    price_to: int,
    count: int,
    *,
    post_only: bool = False,
    reduce_only: bool = False,
    client_id: str = "",
) -> list[OrderIntent]:
    """``count`` limit orders evenly spaced from ``price_from`` to
    ``price_to`` (both included, snapped to the tick), splitting ``total_size``
    into equal lots; the lots that do not divide evenly go one each to the
    orders nearest ``price_from``."""
    if count < 1:
        raise OrderShapeError("scale orders need at least one order")
    if price_from <= 0 or price_to <= 0:
        raise OrderShapeError("scale order prices must be above zero")
    lots = total_size // market.lot_size
    if lots < count:
        raise OrderShapeError(
            f"{count} orders need at least {count} lots of {market.size(market.lot_size)} {market.base}; "
            f"the size gives {lots}"
        )
    tick = market.tick_size
    prices = []
    for i in range(count):
        raw = price_from if count == 1 else price_from + (price_to - price_from) * i // (count - 1)
        snapped = (raw + tick // 2) // tick * tick
        prices.append(max(tick, snapped))
    if len(set(prices)) < count:
        raise OrderShapeError(
            f"the range {market.price(price_from)}-{market.price(price_to)} is too narrow for {count} orders "
            f"at a tick of {market.price(tick)}"
        )
    each, extra = divmod(lots, count)
    return [
        OrderIntent(
            market.venue, market.symbol, side, "limit", (each + (1 if i < extra else 0)) * market.lot_size,
            price=p, post_only=post_only, reduce_only=reduce_only,
            client_id=f"{client_id}-{i + 1}" if client_id else "",
        )
        for i, p in enumerate(prices)
    ]
