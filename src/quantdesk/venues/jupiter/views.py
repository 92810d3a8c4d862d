"""Typed views of the decoded accounts: the fields the math and the adapter use, as ints.

USD amounts and prices are integers with 6 decimals; token amounts are in the
custody's own decimals; rates in the program's units (bps, dbps, 1e9).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

PositionSide = Literal["long", "short"]


@dataclass(frozen=True)
class JumpRate:
    min_rate_bps: int
    max_rate_bps: int
    target_rate_bps: int
    target_utilization: int  # 1e9 = 100%


@dataclass(frozen=True)
class PriceImpactBuffer:
    """The custody's last minute of open-interest change, for the additive price-impact fee.

    ``open_interest[i]`` is the signed USD change of the second ``t`` with
    ``t % 60 == i`` (the latest such second up to ``last_updated``); longs
    opening count positive, shorts opening negative. A trade pays the
    additive fee when the minute's imbalance with it passes the threshold."""

    open_interest: tuple[int, ...]
    last_updated: int  # unix seconds
    fee_factor: int
    exponent: Decimal
    threshold_usd: int  # deltaImbalanceThresholdDecimal, USD 1e6
    max_fee_bps: int  # cap of the whole price-impact fee

    @classmethod
    def from_fields(cls, f: dict[str, Any]) -> PriceImpactBuffer:
        return cls(
            open_interest=tuple(int(v) for v in f["open_interest"]),
            last_updated=f["last_updated"],
            fee_factor=f["fee_factor"],
            exponent=Decimal(repr(float(f["exponent"]))),  # an f32 on chain; read through its text, never as a binary float
            threshold_usd=f["delta_imbalance_threshold_decimal"],
            max_fee_bps=f["max_fee_bps"],
        )


NO_IMPACT_BUFFER = PriceImpactBuffer((), 0, 0, Decimal(1), 0, 0)


@dataclass(frozen=True)
class CustodyView:
    pubkey: str
    mint: str
    decimals: int
    is_stable: bool
    oracle_account: str
    doves_oracle: str
    max_price_age_sec: int
    owned: int
    locked: int
    guaranteed_usd: int
    global_short_sizes: int  # USD
    global_short_average_price: int
    max_global_long_sizes: int  # USD
    max_global_short_sizes: int  # USD
    max_position_size_usd: int
    max_leverage_bps: int  # 1e4 = 1x
    trade_impact_fee_scalar: int
    increase_position_bps: int
    decrease_position_bps: int
    cumulative_interest_rate: int  # 1e9
    funding_last_update: int  # unix seconds
    hourly_funding_dbps: int
    jump_rate: JumpRate
    debt: int  # borrow-lend debt, token amount * 1e9
    borrow_lend_interests_accrued: int
    price_impact: PriceImpactBuffer = NO_IMPACT_BUFFER

    @classmethod
    def from_fields(cls, f: dict[str, Any], pubkey: str = "") -> CustodyView:
        a, p, fr, j = f["assets"], f["pricing"], f["funding_rate_state"], f["jump_rate_state"]
        return cls(
            pubkey=pubkey,
            mint=f["mint"],
            decimals=f["decimals"],
            is_stable=f["is_stable"],
            oracle_account=f["oracle"]["oracle_account"],
            doves_oracle=f["doves_oracle"],
            max_price_age_sec=f["oracle"]["max_price_age_sec"],
            owned=a["owned"],
            locked=a["locked"],
            guaranteed_usd=a["guaranteed_usd"],
            global_short_sizes=a["global_short_sizes"],
            global_short_average_price=a["global_short_average_prices"],
            max_global_long_sizes=p["max_global_long_sizes"],
            max_global_short_sizes=p["max_global_short_sizes"],
            max_position_size_usd=f["max_position_size_usd"],
            max_leverage_bps=p["max_leverage"],
            trade_impact_fee_scalar=p["trade_impact_fee_scalar"],
            increase_position_bps=f["increase_position_bps"],
            decrease_position_bps=f["decrease_position_bps"],
            cumulative_interest_rate=fr["cumulative_interest_rate"],
            funding_last_update=fr["last_update"],
            hourly_funding_dbps=fr["hourly_funding_dbps"],
            jump_rate=JumpRate(j["min_rate_bps"], j["max_rate_bps"], j["target_rate_bps"], j["target_utilization_rate"]),
            debt=f["debt"],
            borrow_lend_interests_accrued=f["borrow_lend_interests_accured"],  # the IDL's spelling
            price_impact=PriceImpactBuffer.from_fields(f["price_impact_buffer"]),
        )


@dataclass(frozen=True)
class PoolView:
    pubkey: str
    name: str
    custodies: tuple[str, ...]
    aum_usd: int
    max_aum_usd: int
    max_request_execution_sec: int
    aum_usd_updated_at: int

    @classmethod
    def from_fields(cls, f: dict[str, Any], pubkey: str = "") -> PoolView:
        return cls(
            pubkey=pubkey,
            name=f["name"],
            custodies=tuple(f["custodies"]),
            aum_usd=f["aum_usd"],
            max_aum_usd=f["limit"]["max_aum_usd"],
            max_request_execution_sec=f["max_request_execution_sec"],
            aum_usd_updated_at=f["aum_usd_updated_at"],
        )


@dataclass(frozen=True)
class PositionView:
    pubkey: str
    owner: str
    pool: str
    custody: str
    collateral_custody: str
    side: PositionSide | None  # None: the account's side is unset
    price: int  # entry, USD 1e6
    size_usd: int
    collateral_usd: int
    realised_pnl_usd: int
    cumulative_interest_snapshot: int
    locked_amount: int
    open_time: int
    update_time: int

    @property
    def is_open(self) -> bool:
        return self.size_usd > 0

    @classmethod
    def from_fields(cls, f: dict[str, Any], pubkey: str = "") -> PositionView:
        side = f["side"] if f["side"] in ("long", "short") else None
        return cls(
            pubkey=pubkey,
            owner=f["owner"],
            pool=f["pool"],
            custody=f["custody"],
            collateral_custody=f["collateral_custody"],
            side=side,
            price=f["price"],
            size_usd=f["size_usd"],
            collateral_usd=f["collateral_usd"],
            realised_pnl_usd=f["realised_pnl_usd"],
            cumulative_interest_snapshot=f["cumulative_interest_snapshot"],
            locked_amount=f["locked_amount"],
            open_time=f["open_time"],
            update_time=f["update_time"],
        )
