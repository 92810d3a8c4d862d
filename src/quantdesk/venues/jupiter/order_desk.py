"""Jupiter Perps set up for one order from the command line (``quantdesk order jupiter ...``).

``load`` reads the pool, the market's custody and oracle (for the risk check
and the request) and the signer's positions and collateral, once, over RPC.
The order then takes the terminal's path: risk engine, the printed preview,
the trader's yes, the signer, ``sendTransaction``. The command does not stay
to follow the request: the receipt says when a keeper must execute it by, and
``quantdesk run`` shows what became of it (requests on chain are read at start).
"""

from __future__ import annotations

from typing import Any

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Market, Order
from quantdesk.venues.base import ApprovalHook, TradingUnavailable, VenueError
from quantdesk.venues.jupiter.config import JupiterConfig
from quantdesk.venues.registry import BuildOptions


class JupiterOrderDesk:
    def __init__(self, section: JupiterConfig, cache: MarketCache, dry_run: bool, approve: ApprovalHook,
                 options: BuildOptions) -> None:  # fmt: skip
        from quantdesk.venues.jupiter.trading import JupiterTrading
        from quantdesk.venues.jupiter.venue import JupiterVenue

        cfg = section.model_copy(update={"dry_run": True}) if dry_run else section
        self.venue = JupiterVenue(cfg, signer=options.signer, signer_problem=options.signer_problem)
        reason = self.venue.trading_unavailable_reason()
        if reason:
            raise TradingUnavailable(reason)
        self.trading = JupiterTrading(self.venue, approve=approve)

    async def load(self, cache: MarketCache, market: str) -> str:
        from quantdesk.venues.solana.rpc import RpcError

        feed = self.venue.feed
        bus = Bus()
        cache.attach(bus)
        feed._bus = bus  # the market's oracle and ladder reach the cache as in a session
        v = self.venue.id
        try:
            await feed.refresh()
            feed.publish_all()
            await feed.poll_positions()
        except RpcError as exc:
            raise VenueError(f"cannot read {v} from the RPC: {exc}. Check venues.{v}.rpc_urls.") from None
        problems = sorted(set(feed.counters.problems.values()))
        if (v, market) not in cache.oracle:
            why = "; ".join(problems) or "its custody or oracle could not be read"
            raise VenueError(f"{market} on {v} has no oracle price: {why}")
        return "; ".join(problems)

    def receipt(self, order: Order, market: Market) -> list[str]:
        ex = self.trading.executor
        preview = self.trading.last_preview
        if self.venue.cfg.dry_run:
            lines = preview.lines() if preview is not None else []
            signed = ex.last_signed_tx
            sig = str(signed.signatures[0]) if signed is not None else ""
            return [*lines, "", f"Dry run: order {order.order_id} was signed ({sig}) and not sent."]
        sig = self.trading.signatures.get(order.order_id, "")
        deadline = next((f.deadline_s for f in (preview.followed if preview else ()) if f.deadline_s), None)
        when = f" A keeper must execute it within {self._window()}s or it expires;" if deadline else ""
        return [
            f"Sent: order {order.order_id} ({order.side} {market.size(order.size)} {market.symbol} on {self.venue.id}), "
            f"signature {sig}.{when} `quantdesk run` shows what became of it."
        ]

    def _window(self) -> Any:
        pool = self.venue.feed.pool
        return pool.max_request_execution_sec if pool is not None else "?"
