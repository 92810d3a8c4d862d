"""Perp position accounting: quote deltas of fills, average entry, realized
and unrealized PnL.

A position is ``(base, quote_entry)`` as on Drift: ``base`` is signed (long > 0)
and ``quote_entry`` is the signed quote exchanged to open what is held now
(negative for a long: quote was paid; positive for a short). The average entry
price is ``|quote_entry| / |base|``. Fees and funding are booked to collateral,
never into ``quote_entry``, so unrealized PnL is always measured against the
pure entry price.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from quantdesk.core.math.fixed import BASE_PRECISION, div_ceil, div_trunc

Side = Literal["buy", "sell"]


def notional(base: int, price: int, base_precision: int = BASE_PRECISION) -> int:
    """Absolute quote value of ``base`` at ``price`` (rounded down)."""
    return abs(base) * max(price, 0) // base_precision


def signed_value(base: int, price: int, base_precision: int = BASE_PRECISION) -> int:
    """Signed quote value of a position at ``price`` (Drift's base_asset_value
    with sign, truncated toward zero)."""
    return div_trunc(base * max(price, 0), base_precision)


def fill_quote_delta(side: Side, size: int, price: int, base_precision: int = BASE_PRECISION) -> int:
    """Quote that moves on a fill of ``size`` base at ``price``: a buy pays
    (negative, cost rounded up), a sell receives (positive, rounded down).
    Rounding always goes against the account, so no dust is ever created."""
    if size < 0:
        raise ValueError("fill size must be positive; the side gives the direction")
    if side == "buy":
        return -div_ceil(size * price, base_precision)
    return size * price // base_precision


def fill_base_delta(side: Side, size: int) -> int:
    return size if side == "buy" else -size


class PositionUpdate(NamedTuple):
    base: int
    quote_entry: int
    realized_pnl: int
    kind: Literal["open", "increase", "reduce", "close", "flip"]


def apply_fill(base: int, quote_entry: int, delta_base: int, delta_quote: int) -> PositionUpdate:
    """New ``(base, quote_entry)`` and the PnL realized by a fill, following
    Drift's update_position_and_market:

    - open / increase: the fill's quote is added to the entry;
    - reduce / close: the entry shrinks pro rata and the difference between
      what the closed part cost and what it fetched is realized;
    - flip: the old position closes entirely and the remainder opens at the
      fill's price.
    """
    if delta_base == 0:
        return PositionUpdate(base, quote_entry, 0, "increase" if base else "open")
    if base == 0:
        return PositionUpdate(delta_base, delta_quote, 0, "open")
    if (base > 0) == (delta_base > 0):
        return PositionUpdate(base + delta_base, quote_entry + delta_quote, 0, "increase")
    if abs(base) >= abs(delta_base):
        closed_entry = div_trunc(quote_entry * abs(delta_base), abs(base))
        new_entry = quote_entry - closed_entry
        kind: Literal["reduce", "close"] = "close" if abs(base) == abs(delta_base) else "reduce"
        if kind == "close":
            new_entry = 0
            closed_entry = quote_entry
        return PositionUpdate(base + delta_base, new_entry, closed_entry + delta_quote, kind)
    # flip: the part of the fill that closes the old position is priced pro rata
    closing_quote = div_trunc(delta_quote * abs(base), abs(delta_base))
    new_entry = delta_quote - closing_quote
    return PositionUpdate(base + delta_base, new_entry, quote_entry + closing_quote, "flip")


def entry_price(base: int, quote_entry: int, base_precision: int = BASE_PRECISION) -> int:
    """Average entry price (price precision); 0 when flat."""
    if base == 0:
        return 0
    return abs(quote_entry) * base_precision // abs(base)


def unrealized_pnl(base: int, quote_entry: int, price: int, base_precision: int = BASE_PRECISION) -> int:
    """PnL of the open position if closed at ``price`` (Drift: base value at
    the oracle plus the signed entry quote)."""
    if base == 0:
        return 0
    return signed_value(base, price, base_precision) + quote_entry
