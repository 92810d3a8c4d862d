"""Plain strings for insight headlines and details (the pane and the JSON
carry the exact figures beside them). Prices here are at the model's 1e6
precision or already in quote units."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from quantdesk.core.model import PRICE_DECIMALS

DASH = "—"


def num(value: Decimal | int | None, places: int, *, sign: bool = False) -> str:
    if value is None:
        return DASH
    q = Decimal(value).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    return format(q, ("+" if sign else "") + f",.{places}f")


def pct(fraction: Decimal | None, *, sign: bool = False) -> str:
    return DASH if fraction is None else num(fraction * 100, 2, sign=sign) + "%"


def bps(value: Decimal | None) -> str:
    return DASH if value is None else num(value, 1, sign=True) + "bp"


def usd(value: int | None, *, sign: bool = False, places: int = 2) -> str:
    """Quote at price precision as dollars: -$1,234.50."""
    if value is None:
        return DASH
    text = num(abs(Decimal(value).scaleb(-PRICE_DECIMALS)), places)
    lead = "-" if value < 0 else "+" if sign and value > 0 else ""
    return f"{lead}${text}"


def quote(value: Decimal | None) -> str:
    """A price in quote units: four places under $10, two above."""
    if value is None:
        return DASH
    return num(value, 4 if abs(value) < 10 else 2)
