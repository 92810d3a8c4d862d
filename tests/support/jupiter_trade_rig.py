"""A local chain a trader can trade Jupiter Perps on: the mainnet pool and SOL
custody, a USDC custody for shorts, a Doves oracle, the trader's wallet
(10 SOL, 1,000 USDC), the program and keeper doubles, and a clock the test moves."""

from __future__ import annotations

from typing import Any

from quantdesk.venues.jupiter.config import DEFAULT_COLLATERAL, JupiterConfig, JupiterMarket
from quantdesk.venues.jupiter.venue import JupiterVenue
from quantdesk.venues.jupiter.wallet import associated_token_account

from support.jupiter_chain import (
    POOL, SOL_CUSTODY, SOL_DOVES_ORACLE, TOKEN_PROGRAM, JupiterNode, price_feed,
)
from support.jupiter_fixtures import data
from support.jupiter_program import USDC_MINT, Keeper, ProgramDouble, stable_custody, token_account
from support.signer import MemorySigner

NOW_S = 1_790_272_210  # the fixture's time
SOL_PRICE = 118_000_000
USDC_CUSTODY = DEFAULT_COLLATERAL["USDC"]
DOVES = "DoVEsk76QybCEHQGzkvYPWLQu9gzNoZZZt3TPiL597e"
WALLET_SOL = 10 * 10**9
WALLET_USDC = 1_000 * 10**6


class Clock:
    """Unix time in ns that moves only when told."""

    def __init__(self, s: int = NOW_S) -> None:
        self.ns = s * 1_000_000_000

    def __call__(self) -> int:
        return self.ns

    def advance(self, s: float) -> None:
        self.ns += int(s * 1_000_000_000)

    @property
    def s(self) -> int:
        return self.ns // 1_000_000_000


class TradeRig:
    def __init__(self, signer: Any = None, now_s: int = NOW_S) -> None:
        self.node = JupiterNode()
        self.clock = Clock(now_s)
        self.signer = signer or MemorySigner()
        self.owner = str(self.signer.pubkey)
        chain = self.node.chain
        chain.set_quietly(SOL_DOVES_ORACLE, price_feed(11_800_000_000, -8, now_s), owner=DOVES)
        chain.set_quietly(USDC_CUSTODY, stable_custody(data(SOL_CUSTODY)))
        chain.set_quietly(associated_token_account(self.owner, USDC_MINT),
                          token_account(USDC_MINT, self.owner, WALLET_USDC), owner=TOKEN_PROGRAM)  # fmt: skip
        self.program = ProgramDouble(chain, lambda: self.clock.s)
        self.node.http.on_send = self.program.on_send
        self.keeper = Keeper(chain)

    async def start(self) -> None:
        await self.node.start()
        self.node.http.fund(self.signer.pubkey, WALLET_SOL)

    async def stop(self) -> None:
        await self.node.stop()

    def config(self, **over: Any) -> JupiterConfig:
        base: dict[str, Any] = dict(
            rpc_urls=(self.node.http.url,),
            ws_urls=(self.node.pubsub.url,),
            markets=(JupiterMarket("SOL-PERP", "SOL", SOL_CUSTODY),),
            collateral={"USDC": USDC_CUSTODY},
            pool=POOL,
            poll_interval_s=0.05,
            refresh_interval_s=3600,
            positions_poll_s=0.2,
            request_poll_s=0.05,
            price_api_url="",
            stale_after_s=3600,
            backoff_initial_s=0.01,
            backoff_max_s=0.05,
            ladder_usd=(1_000, 100_000),
        )
        base.update(over)
        return JupiterConfig(**base)

    def venue(self, **over: Any) -> JupiterVenue:
        return JupiterVenue(self.config(**over), clock=self.clock, signer=self.signer)
