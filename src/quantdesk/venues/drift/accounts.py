"""Normalized views of decoded Drift-v2 accounts, in human units.

Values are ``Decimal`` (exact) or int; the JSON encoder writes Decimals as
JSON numbers with their exact digits. Precisions are the engine's: price and
quote 1e6, base 1e9, funding rate 1e9, margin ratios and weights 1e4, spot
balances 1e9, cumulative interest 1e10.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal, localcontext
from typing import Any

PRICE_DECIMALS = 6
QUOTE_DECIMALS = 6
BASE_DECIMALS = 9
FUNDING_RATE_DECIMALS = 9
MARGIN_DECIMALS = 4
SPOT_BALANCE_DECIMALS = 9
CUMULATIVE_INTEREST_DECIMALS = 10
RATE_PCT_PLACES = Decimal("1e-12")  # funding percentages: 12 decimals is far below a tick


def scaled(value: int, decimals: int) -> Decimal:
    return Decimal(int(value)).scaleb(-decimals)


def fixed_name(raw: Any) -> str:
    """Drift stores names as 32 space-padded bytes."""
    return bytes(raw).decode("utf-8", errors="replace").rstrip(" \x00")


def variant(value: Any) -> str:
    """The variant name of a decoded Borsh enum (``MarketStatus.Active()`` -> ``Active``)."""
    return type(value).__name__


def hourly_funding_pct(last_funding_rate: int, oracle_twap: int, funding_period_s: int = 3600) -> Decimal | None:
    """Funding rate per hour in percent of price: (rate / 1e9) / (twap / 1e6) * 100.

    ``last_funding_rate`` is quote per base per funding period; a period other
    than one hour is rescaled. None when the twap is zero (no price yet).
    """
    if not oracle_twap or not funding_period_s:
        return None
    with localcontext() as ctx:
        ctx.prec = 50
        pct = (
            scaled(last_funding_rate, FUNDING_RATE_DECIMALS)
            / scaled(oracle_twap, PRICE_DECIMALS)
            * 100
            * Decimal(3600)
            / Decimal(funding_period_s)
        )
        return pct.quantize(RATE_PCT_PLACES)


def perp_market(acc: Any) -> dict[str, Any]:
    amm = acc.amm
    hist = amm.historical_oracle_data
    period = int(amm.funding_period)
    return {
        "account": "PerpMarket",
        "pubkey": str(acc.pubkey),
        "market_index": int(acc.market_index),
        "name": fixed_name(acc.name),
        "status": variant(acc.status),
        "contract_type": variant(acc.contract_type),
        "oracle": str(amm.oracle),
        "oracle_price": scaled(hist.last_oracle_price, PRICE_DECIMALS),
        "oracle_price_twap": scaled(hist.last_oracle_price_twap, PRICE_DECIMALS),
        "mark_price_twap": scaled(amm.last_mark_price_twap, PRICE_DECIMALS),
        "open_interest_long": scaled(abs(int(amm.base_asset_amount_long)), BASE_DECIMALS),
        "open_interest_short": scaled(abs(int(amm.base_asset_amount_short)), BASE_DECIMALS),
        "funding_rate_hourly_pct": hourly_funding_pct(
            amm.last_funding_rate, hist.last_oracle_price_twap, period
        ),
        "funding_rate_24h_avg_hourly_pct": hourly_funding_pct(
            amm.last24h_avg_funding_rate, hist.last_oracle_price_twap, period
        ),
        "funding_period_s": period,
        "last_funding_ts": int(amm.last_funding_rate_ts),
        "tick_size": scaled(amm.order_tick_size, PRICE_DECIMALS),
        "step_size": scaled(amm.order_step_size, BASE_DECIMALS),
        "min_order_size": scaled(amm.min_order_size, BASE_DECIMALS),
        "margin_ratio_initial": scaled(acc.margin_ratio_initial, MARGIN_DECIMALS),
        "margin_ratio_maintenance": scaled(acc.margin_ratio_maintenance, MARGIN_DECIMALS),
        "number_of_users": int(acc.number_of_users),
    }


def _token_amount(balance: int, cumulative_interest: int) -> Decimal:
    """Tokens behind a scaled spot balance: balance (1e9) x cumulative interest (1e10)."""
    return scaled(int(balance) * int(cumulative_interest), SPOT_BALANCE_DECIMALS + CUMULATIVE_INTEREST_DECIMALS)


def spot_market(acc: Any) -> dict[str, Any]:
    decimals = int(acc.decimals)
    deposits = _token_amount(acc.deposit_balance, acc.cumulative_deposit_interest)
    borrows = _token_amount(acc.borrow_balance, acc.cumulative_borrow_interest)
    return {
        "account": "SpotMarket",
        "pubkey": str(acc.pubkey),
        "market_index": int(acc.market_index),
        "name": fixed_name(acc.name),
        "mint": str(acc.mint),
        "decimals": decimals,
        "status": variant(acc.status),
        "asset_tier": variant(acc.asset_tier),
        "oracle": str(acc.oracle),
        "oracle_price": scaled(acc.historical_oracle_data.last_oracle_price, PRICE_DECIMALS),
        "total_deposits": deposits,
        "total_borrows": borrows,
        "utilization_pct": (borrows / deposits * 100).quantize(Decimal("1e-6")) if deposits else Decimal(0),
        "initial_asset_weight": scaled(acc.initial_asset_weight, MARGIN_DECIMALS),
        "maintenance_asset_weight": scaled(acc.maintenance_asset_weight, MARGIN_DECIMALS),
        "initial_liability_weight": scaled(acc.initial_liability_weight, MARGIN_DECIMALS),
        "maintenance_liability_weight": scaled(acc.maintenance_liability_weight, MARGIN_DECIMALS),
    }


def user(acc: Any) -> dict[str, Any]:
    positions = [
        {
            "market_index": int(p.market_index),
            "base": scaled(p.base_asset_amount, BASE_DECIMALS),
            "quote_entry": scaled(p.quote_entry_amount, QUOTE_DECIMALS),
            "quote_break_even": scaled(p.quote_break_even_amount, QUOTE_DECIMALS),
            "open_orders": int(p.open_orders),
        }
        for p in acc.perp_positions
        if int(p.base_asset_amount) != 0
    ]
    spots = [
        {
            "market_index": int(s.market_index),
            "balance_type": variant(s.balance_type),
            "scaled_balance": scaled(s.scaled_balance, SPOT_BALANCE_DECIMALS),
        }
        for s in acc.spot_positions
        if int(s.scaled_balance) != 0
    ]
    return {
        "account": "User",
        "authority": str(acc.authority),
        "delegate": str(acc.delegate),
        "sub_account_id": int(acc.sub_account_id),
        "name": fixed_name(acc.name),
        "status": int(acc.status),
        "perp_positions": positions,
        "spot_positions": spots,
        "open_orders": sum(1 for o in acc.orders if variant(o.status) == "Open"),
        "total_deposits": scaled(acc.total_deposits, QUOTE_DECIMALS),
        "total_withdraws": scaled(acc.total_withdraws, QUOTE_DECIMALS),
        "settled_perp_pnl": scaled(acc.settled_perp_pnl, QUOTE_DECIMALS),
        "cumulative_perp_funding": scaled(acc.cumulative_perp_funding, QUOTE_DECIMALS),
        "is_margin_trading_enabled": bool(acc.is_margin_trading_enabled),
    }


def user_stats(acc: Any) -> dict[str, Any]:
    return {
        "account": "UserStats",
        "authority": str(acc.authority),
        "referrer": str(acc.referrer),
        "total_fee_paid": scaled(acc.fees.total_fee_paid, QUOTE_DECIMALS),
        "total_fee_rebate": scaled(acc.fees.total_fee_rebate, QUOTE_DECIMALS),
        "maker_volume_30d": scaled(acc.maker_volume30d, QUOTE_DECIMALS),
        "taker_volume_30d": scaled(acc.taker_volume30d, QUOTE_DECIMALS),
        "filler_volume_30d": scaled(acc.filler_volume30d, QUOTE_DECIMALS),
        "if_staked_quote_asset_amount": scaled(acc.if_staked_quote_asset_amount, QUOTE_DECIMALS),
        "number_of_sub_accounts": int(acc.number_of_sub_accounts),
        "number_of_sub_accounts_created": int(acc.number_of_sub_accounts_created),
    }


NORMALIZERS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "PerpMarket": perp_market,
    "SpotMarket": spot_market,
    "User": user,
    "UserStats": user_stats,
}


def normalize(name: str, acc: Any) -> dict[str, Any]:
    """Normalized fields of a decoded account; other account types print their raw fields."""
    fn = NORMALIZERS.get(name)
    if fn is not None:
        return fn(acc)
    return {"account": name, **plain(acc)}


def plain(value: Any) -> Any:
    """Decoded IDL data (structs, enums, lists, pubkeys) as JSON-ready values."""
    import dataclasses

    from construct import Container, ListContainer

    if value is None or isinstance(value, bool | int | str | Decimal):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Container):
        return {k: plain(v) for k, v in value.items() if not k.startswith("_")}
    if isinstance(value, ListContainer | list | tuple):
        return [plain(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if type(value).__module__ == "sumtypes":  # a Borsh enum variant
        fields = {k: plain(v) for k, v in vars(value).items() if not k.startswith("_")} if hasattr(value, "__dict__") else {}
        return {variant(value): fields} if fields else variant(value)
    return str(value)  # Pubkey and other scalars with a canonical text form
