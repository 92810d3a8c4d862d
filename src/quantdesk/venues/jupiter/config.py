"""``[venues.jupiter]``: where the Jupiter Perps adapter reads from, which custodies it
follows, and how it trades (leverage, slippage, fees, the programs it may call).

Hosts are lists so a second RPC takes over when the first fails; every host
is configurable because none is reachable from a test. The price API key is
a secret: it never appears in a repr, a log or a message.
"""

from __future__ import annotations

import re
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

PROGRAM_ID = "PERPHjGBqRHArX4DySjwM6UJHiR3sWAatqfdBS2qQJu"
JLP_POOL = "5BUwFW4nRbftYTDMbgxykoFWqWHPzahFSNAaaaJtVKsq"
JLP_MINT = "27G8MtK7VtTcCHkpASjSDdkWWYfoqT6ggEuKidVJidD4"
DAY_S = 86_400.0  # no period longer than a day: a mistyped value must not stall the feed for ever
DOVES_PROGRAM_ID = "DoVEsk76QybCEHQGzkvYPWLQu9gzNoZZZt3TPiL597e"
_BASE58_KEY = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}")


class JupiterMarket(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    symbol: str = Field(description="the market's symbol on the bus, e.g. SOL-PERP")
    base: str = Field(description="the traded asset, e.g. SOL")
    custody: str = Field(description="the JLP pool custody account the market trades against")
    size_decimals: int = Field(default=9, ge=0, le=18, description="decimals of base sizes in the Depth pane")

    def __init__(self, symbol: str, base: str, custody: str, size_decimals: int = 9, **kw: object) -> None:
        super().__init__(symbol=symbol, base=base, custody=custody, size_decimals=size_decimals, **kw)


# The JLP pool's custodies (the pool account lists them in this order).
DEFAULT_MARKETS = (
    JupiterMarket("SOL-PERP", "SOL", "7xS2gz2bTp3fwCC7knJvUWTEU9Tycczu6VhJYKgi1wdz"),
    JupiterMarket("ETH-PERP", "ETH", "AQCGyheWPLeo6Qp9WpYS9m3Qj479t7R636N9ey1rEjEn"),
    JupiterMarket("BTC-PERP", "BTC", "5Pv3gM9JrFFH883SWAhvJC9RPYmo8UNxuFtv5bMMALkm"),
)
DEFAULT_COLLATERAL = {
    "USDC": "G18jKKXQwBbrHeiK3C9MRXhkHsLHf7XgCSisykV46EZa",
    "USDT": "4vkNeXiYEUizLdrpdPS1eC2mccyM4NUPRtERrk6ZETkk",
}


class JupiterConfig(BaseModel):
    # Built at its first validation: a console on the simulated venues never validates one.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    id: str = Field(default="jupiter", description="the venue id on the bus and in panes")
    rpc_urls: tuple[str, ...] = Field(
        default=("https://api.mainnet-beta.solana.com",), min_length=1,
        description="Solana JSON-RPC URLs, tried in order when one fails",
    )
    ws_urls: tuple[str, ...] = Field(
        default=("wss://api.mainnet-beta.solana.com",),
        description="Solana websocket (pubsub) URLs; empty: poll getMultipleAccounts only",
    )
    commitment: str = Field(default="confirmed", pattern="^(processed|confirmed|finalized)$",
                            description="commitment of every read: processed, confirmed or finalized")
    program_id: str = Field(default=PROGRAM_ID, description="the Jupiter Perps program")
    pool: str = Field(default=JLP_POOL, description="the JLP pool account")
    lp_mint: str = Field(default=JLP_MINT, description="the JLP token mint (its supply gives the JLP virtual price)")
    markets: tuple[JupiterMarket, ...] = Field(default=DEFAULT_MARKETS, description="markets and their custodies")
    collateral: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_COLLATERAL),
        description="stable collateral custodies (symbol -> account): shorts borrow from these",
    )
    poll_interval_s: float = Field(default=2.0, gt=0, le=DAY_S, description="getMultipleAccounts interval while the websocket is down")
    refresh_interval_s: float = Field(default=30.0, gt=0, le=DAY_S, description="a full re-read even while the websocket is up")
    stale_after_s: float | None = Field(
        default=None, gt=0, le=DAY_S, description="oracle age that marks a market stale; unset: each custody's max_price_age_sec"
    )
    ladder_usd: tuple[int, ...] = Field(
        default=(1_000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000),
        description="quote ladder sizes for the Depth pane, whole US dollars",
    )
    price_api_url: str = Field(
        default="https://api.jup.ag/price/v3", description="the Jupiter price API (second price source); empty: off"
    )
    price_api_key: SecretStr | None = Field(default=None, description="x-api-key for the price API")
    price_api_interval_s: float = Field(default=10.0, gt=0, le=DAY_S, description="price API poll interval")
    price_gap_warn_bps: float = Field(
        default=50.0, gt=0, le=10_000, description="show a warning when the oracle and the price API differ by more (bps)"
    )
    confidence_warn_bps: float = Field(
        default=100.0, gt=0, le=10_000,
        description="show a warning when the Pyth confidence interval is wider than this (bps of the price)",
    )
    watch: str | None = Field(default=None, description="a wallet whose positions to show (read-only, any wallet)")
    positions_poll_s: float = Field(default=5.0, gt=0, le=DAY_S, description="how often the watched wallet's positions are read")
    backoff_initial_s: float = Field(default=0.5, gt=0, le=DAY_S, description="first reconnect delay")
    backoff_max_s: float = Field(default=30.0, gt=0, le=DAY_S, description="longest reconnect delay")
    http_timeout_s: float = Field(default=10.0, gt=0, le=DAY_S, description="timeout of one RPC or price API request")
    rpc_cooldown_s: float = Field(
        default=30.0, gt=0, le=DAY_S,
        description="how long a failed RPC URL is passed over before the preferred URLs are tried first again",
    )
    # -- trading (with the top-level signer) ----------------------------------------------------
    leverage: Decimal = Field(
        default=Decimal(2), ge=Decimal("1.1"), le=Decimal(500),
        description="leverage of what an order opens or adds: it puts up size / leverage as collateral",
    )
    slippage_bps: int = Field(
        default=50, ge=1, le=1_000,
        description="a market request fills no further than this from the oracle price (bps), or it is not executed",
    )
    short_collateral: str = Field(default="USDC", description="which stable collateral custody a short posts (a key of collateral)")
    compute_units: int = Field(default=400_000, ge=0, le=1_400_000, description="compute unit limit of each transaction")
    # at most 10 lamports per compute unit: a typo must not spend SOL on fees
    priority_fee_micro_lamports: int = Field(default=0, ge=0, le=10_000_000, description="priority fee, micro-lamports per compute unit")
    allow_durable_nonce: bool = Field(default=False, description="sign transactions that use a durable nonce (normally refused)")
    allowed_programs: tuple[str, ...] = Field(
        default=(), max_length=64,
        description="programs beyond Jupiter Perps, ComputeBudget, System and the token programs a transaction may call",
    )
    dry_run: bool = Field(default=False, description="build and sign requests but never send them")
    request_poll_s: float = Field(
        default=1.0, gt=0, le=DAY_S, description="how often a pending request is re-read while the websocket is down"
    )

    @field_validator("allowed_programs")
    @classmethod
    def _program_ids(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for program in v:
            if not _BASE58_KEY.fullmatch(program):
                raise ValueError(f"{program!r} is not a program id (a base58 public key, 32 to 44 characters)")
        return v

    @model_validator(mode="after")
    def _short_collateral_is_listed(self) -> JupiterConfig:
        if self.collateral and self.short_collateral not in self.collateral:
            raise ValueError(
                f"short_collateral {self.short_collateral!r} is not a key of collateral; choose one of "
                f"{', '.join(self.collateral)}"
            )
        return self
