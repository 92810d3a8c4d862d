"""Where the Jupiter Perps adapter reads from, and which custodies it follows.

Plain data (the config layer validates the user's file and builds this). Hosts
are lists so a second RPC takes over when the first fails; every host is
configurable because none is reachable from a test.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PROGRAM_ID = "PERPHjGBqRHArX4DySjwM6UJHiR3sWAatqfdBS2qQJu"
JLP_POOL = "5BUwFW4nRbftYTDMbgxykoFWqWHPzahFSNAaaaJtVKsq"
DOVES_PROGRAM_ID = "DoVEsk76QybCEHQGzkvYPWLQu9gzNoZZZt3TPiL597e"


@dataclass(frozen=True)
class JupiterMarket:
    symbol: str  # SOL-PERP
    base: str  # SOL
    custody: str  # the custody account the market trades against
    size_decimals: int = 9  # book sizes in the Depth pane


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


@dataclass(frozen=True)
class JupiterConfig:
    id: str = "jupiter"
    rpc_urls: tuple[str, ...] = ("https://api.mainnet-beta.solana.com",)
    ws_urls: tuple[str, ...] = ("wss://api.mainnet-beta.solana.com",)
    commitment: str = "confirmed"
    program_id: str = PROGRAM_ID
    pool: str = JLP_POOL
    markets: tuple[JupiterMarket, ...] = DEFAULT_MARKETS
    collateral: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_COLLATERAL))  # symbol -> custody
    poll_interval_s: float = 2.0  # getMultipleAccounts while the websocket is down
    refresh_interval_s: float = 30.0  # a full re-read even while the websocket is up
    stale_after_s: float | None = None  # oracle age that marks data stale; None: each custody's max_price_age_sec
    ladder_usd: tuple[int, ...] = (1_000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000)  # whole dollars
    price_api_url: str = "https://api.jup.ag/price/v3"
    price_api_key: str | None = field(default=None, repr=False)  # secret: never in a repr or a message
    price_api_interval_s: float = 10.0
    watch: str | None = None  # a wallet whose positions to show (read-only, any wallet)
    positions_poll_s: float = 5.0
    backoff_initial_s: float = 0.5
    backoff_max_s: float = 30.0
    http_timeout_s: float = 10.0
