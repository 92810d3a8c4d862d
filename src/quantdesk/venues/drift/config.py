"""Settings of one Drift-v2 engine deployment (Drift itself, or its fork Velocity).

Both deployments run the same engine behind different hosts, program ids and
quote mints, so one adapter serves both and everything that differs lives
here. Every host is configurable: tests point them at local servers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from quantdesk.venues.drift.market_list import (
    DEFAULT_WATCHLIST,
    MarketList,
    MarketOverride,
    MarketSpec,
    StaticMarket,
    deprecations,
    resolve,
)

DRIFT_PROGRAM_ID = "dRiftyHA39MWEi3m9aunc5MzRF1JYuBsbn6VPcn33UH"
VELOCITY_PROGRAM_ID = "vELoC1audYbSYVRXn1vPaV8Axoa9oU6BYmNGZZBDZ1P"
USDC_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"
USDT_MINT = "Es9vMFrzaCERmJfrF4H2FYD4KCoNkY11McCe8BenwNYB"
COMPUTE_BUDGET_PROGRAM_ID = "ComputeBudget111111111111111111111111111111"
DAY_S = 86_400.0
_BASE58_KEY = re.compile(r"[1-9A-HJ-NP-Za-km-z]{32,44}")
_WS_SCHEME = {"https": "wss", "http": "ws"}


class DriftDeployment(BaseModel):
    """One deployment of the Drift-v2 engine. Unknown keys are errors, not silently ignored;
    every number is bounded (a day at most for periods, no infinities)."""

    # Built at its first validation: a console on the simulated venues never validates one.
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, defer_build=True)

    id: str  # venue id on the bus: "drift" or "velocity"
    program_id: str
    quote_mint: str
    quote: str = "USDC"
    dlob_url: str
    dlob_ws_url: str
    data_api_url: str
    # The data API's WebSocket (live candle updates); None: data_api_url's host at /ws.
    data_api_ws_url: str | None = None
    # Bars a chart loads from the data API's candles endpoint (it serves 1,000 at most a request).
    candles_limit: int = Field(default=500, ge=1, le=1_000)
    rpc_urls: list[str] = Field(min_length=1)
    ws_rpc_url: str
    # The engine's Anchor IDL; None means "the one driftpy ships" for Drift and
    # "not available" for Velocity (whose IDL is not public): read-only then.
    idl_path: Path | None = None
    # The markets streamed from the start; every other listed market can be opened by name.
    watchlist: list[str] = Field(default_factory=lambda: list(DEFAULT_WATCHLIST), min_length=1, max_length=200)
    # Per listed market (keyed by its listed symbol): name, tick_size, lot_size, index.
    overrides: dict[str, MarketOverride] = Field(default_factory=dict)
    # Deprecated: the static list of markets from before discovery (see market_list.py).
    markets: list[StaticMarket] = Field(default_factory=list, max_length=200)
    # Read every listed market from chain (getProgramAccounts) when the venue starts;
    # off, or when the chain cannot be read: the markets known offline and the overrides.
    discover_markets: bool = True
    book_depth: int = Field(default=20, ge=1, le=100)
    # Above 20 levels (all the WebSocket pushes) the deeper levels come from REST /l2 this often.
    deep_book_poll_s: float = Field(default=5.0, gt=0, le=DAY_S)
    heartbeat_s: float = Field(default=5.0, gt=0, le=DAY_S)  # the DLOB server's heartbeat period
    silence_s: float = Field(default=12.0, gt=0, le=DAY_S)  # no message this long -> stale, reconnect
    # A market's book that has not advanced (slot or server time) this long while
    # heartbeats still arrive is stale: resubscribed, then the connection replaced.
    book_stall_s: float = Field(default=15.0, gt=0, le=DAY_S)
    max_snapshot_age_s: float = Field(default=30.0, gt=0, le=DAY_S)  # older books on arrival are dropped as stale
    # A book whose slot is this far past the RPC slot (or the last book's) is
    # no real book: dropped and counted. ~2.5 slots a second: 10,000 is about an hour.
    max_slot_lead: int = Field(default=10_000, ge=1, le=10**9)
    funding_poll_s: float = Field(default=60.0, gt=0, le=DAY_S)
    slot_poll_s: float = Field(default=10.0, ge=0, le=DAY_S)  # RPC getSlot for the slot-lag figure; 0 turns it off
    backoff_initial_s: float = Field(default=0.5, gt=0, le=DAY_S)
    backoff_max_s: float = Field(default=30.0, gt=0, le=DAY_S)
    http_timeout_s: float = Field(default=10.0, gt=0, le=DAY_S)
    # An RPC URL that failed (unreachable, timed out, 5xx, 429) is passed over this
    # long; then the preferred URLs are tried first again.
    rpc_cooldown_s: float = Field(default=30.0, gt=0, le=DAY_S)
    # Trading and account watching (Drift deployment; driftpy builds the transactions).
    sub_account_id: int = Field(default=0, ge=0, le=65535)
    watch: str | None = None  # an authority (wallet) whose positions to show, read-only, no key needed
    account_poll_s: float = Field(default=5.0, gt=0, le=DAY_S)
    compute_units: int = Field(default=600_000, ge=0, le=1_400_000)
    # at most 10 lamports per compute unit: a typo must not spend SOL on fees
    priority_fee_micro_lamports: int = Field(default=0, ge=0, le=10_000_000)
    allow_durable_nonce: bool = False  # sign transactions that use a durable nonce (normally refused)
    # programs beyond the deployment's own and ComputeBudget that its transactions may call
    allowed_programs: list[str] = Field(default_factory=list, max_length=64)
    dry_run: bool = False  # build and sign orders but never send them

    _listing: tuple[MarketSpec, ...] | None = PrivateAttr(default=None)
    _resolved: MarketList | None = PrivateAttr(default=None)

    @field_validator("allowed_programs")
    @classmethod
    def _program_ids(cls, v: list[str]) -> list[str]:
        for program in v:
            if not _BASE58_KEY.fullmatch(program):
                raise ValueError(f"{program!r} is not a program id (a base58 public key, 32 to 44 characters)")
        return v

    @model_validator(mode="before")
    @classmethod
    def _no_own_key(cls, data: object) -> object:
        # Keys are not a venue's business: one top-level signer serves every venue.
        if isinstance(data, dict) and "keypair_path" in data:
            path = data.get("keypair_path") or "PATH"
            raise ValueError(
                f'keypair_path is no longer a venue setting: remove it and write signer = "keypair:{path}" '
                "at the top of the config (or set QUANTDESK_SIGNER)"
            )
        return data

    @field_validator("dlob_url", "data_api_url")
    @classmethod
    def _no_trailing_slash(cls, v: str) -> str:
        return v.rstrip("/")

    @field_validator("data_api_url", "data_api_ws_url")
    @classmethod
    def _a_web_address(cls, v: str | None) -> str | None:
        if v is not None and "://" not in v:
            raise ValueError(f"{v!r} is not a URL: write it with its scheme, e.g. https://data.api.drift.trade")
        return v

    @model_validator(mode="after")
    def _silence_outlasts_heartbeat(self) -> DriftDeployment:
        if self.silence_s <= self.heartbeat_s:
            raise ValueError(
                f"silence_s ({self.silence_s:g}) must be longer than heartbeat_s ({self.heartbeat_s:g}), "
                "or every quiet moment between heartbeats would count as an outage"
            )
        return self

    @property
    def candles_ws_url(self) -> str:
        """Where live candle updates come from: ``data_api_ws_url``, else the data
        API's own host (``https://h`` -> ``wss://h/ws``)."""
        if self.data_api_ws_url:
            return self.data_api_ws_url
        scheme, _, rest = self.data_api_url.partition("://")
        return f"{_WS_SCHEME.get(scheme, scheme)}://{rest}/ws"

    @property
    def uses_bundled_idl(self) -> bool:
        return self.idl_path is None and self.program_id == DRIFT_PROGRAM_ID

    @property
    def has_idl(self) -> bool:
        return self.idl_path is not None or self.uses_bundled_idl

    def read_only_reason(self) -> str | None:
        """Why on-chain decoding and orders are off for this deployment, or None."""
        if self.has_idl:
            return None
        return (
            f"{self.id}: on-chain decoding and orders need the program IDL, which is not public; "
            f"market data works. Set venues.{self.id}.idl_path to enable them."
        )

    # -- markets ---------------------------------------------------------------
    @property
    def market_list(self) -> MarketList:
        if self._resolved is None:
            self._resolved = resolve(self.id, self.watchlist, self.overrides, self.markets, self._listing)
        return self._resolved

    @property
    def watched(self) -> tuple[MarketSpec, ...]:
        """The markets streamed from the start, in watchlist order."""
        return self.market_list.watched

    @property
    def listed(self) -> tuple[MarketSpec, ...]:
        """Every market the deployment lists (from chain once discovered), by index."""
        return self.market_list.listed

    def market(self, symbol: str) -> MarketSpec | None:
        """Any listed market by its symbol."""
        return self.market_list.market(symbol)

    def with_listing(self, listing: Sequence[MarketSpec]) -> DriftDeployment:
        """This deployment with the markets its program lists on chain."""
        copy = self.model_copy()
        copy._listing = tuple(listing)
        copy._resolved = None
        return copy

    def deprecations(self) -> list[str]:
        return deprecations(self.id, self.markets, watchlist_given=tuple(self.watchlist) != DEFAULT_WATCHLIST)



def default_deployment(name: str) -> DriftDeployment:
    """The documented public hosts of ``drift`` or ``velocity``."""
    if name == "drift":
        return DriftDeployment(
            id="drift",
            program_id=DRIFT_PROGRAM_ID,
            quote_mint=USDC_MINT,
            quote="USDC",
            dlob_url="https://dlob.drift.trade",
            dlob_ws_url="wss://dlob.drift.trade/ws",
            data_api_url="https://data.api.drift.trade",
            rpc_urls=["https://api.mainnet-beta.solana.com"],
            ws_rpc_url="wss://api.mainnet-beta.solana.com",
        )
    if name == "velocity":
        return DriftDeployment(
            id="velocity",
            program_id=VELOCITY_PROGRAM_ID,
            quote_mint=USDT_MINT,
            quote="USDT",
            dlob_url="https://dlob.velocity.exchange",
            dlob_ws_url="wss://dlob.velocity.exchange/ws",
            data_api_url="https://data.velocity.exchange",
            rpc_urls=["https://api.mainnet-beta.solana.com"],
            ws_rpc_url="wss://api.mainnet-beta.solana.com",
        )
    raise ValueError(f"unknown Drift-v2 deployment {name!r}: use 'drift' or 'velocity'")


DEPLOYMENTS = ("drift", "velocity")
