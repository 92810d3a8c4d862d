"""A shared ``JupiterVenue`` as one trader served over SSH trades it.

The venue's feed (pool, custodies, oracles) serves every console; the
trader's wallet account (their position PDAs and the tokens they could post)
and the follower of their position requests are theirs, read with the
venue's RPC and published onto their console's bus only. Orders are built
for their wallet and signed by their signer (their forwarded agent).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from quantdesk.core.bus import Bus
from quantdesk.core.model import topic_for
from quantdesk.venues.jupiter.config import JupiterConfig
from quantdesk.venues.jupiter.venue import SignsRequests
from quantdesk.venues.jupiter.wallet_account import WalletAccount
from quantdesk.venues.trader_view import TraderView

if TYPE_CHECKING:
    from quantdesk.venues.jupiter.venue import JupiterVenue


class JupiterTraderView(TraderView, SignsRequests):  # type: ignore[override]  # the venue's feed and clock, read-only here
    """Their account is known once their signer gives its key
    (``load_account``); while their console follows it (``follow_account``)
    their positions are polled and their requests followed until a keeper
    executes them, they are cancelled or they expire."""

    def __init__(self, venue: JupiterVenue, signer: Any, signer_problem: str | None = None,
                 bus: Bus | None = None) -> None:  # fmt: skip
        super().__init__(venue, signer, signer_problem)
        self.bus = bus  # the trader's console's
        self.account: WalletAccount | None = None  # theirs, once their signer gave its key
        self.follower: Any = None  # request_follower.RequestFollower of their wallet, likewise

    def _publish(self, event: Any) -> None:
        if self.bus is not None:
            self.bus.publish(topic_for(event), event)

    def _own(self, pubkey: str) -> WalletAccount:
        """The trader's account and request follower, made once their key is known."""
        if self.account is None:
            self.account = WalletAccount(pubkey, read_wallet=True)
            self.follower = self._request_follower(pubkey, self.account)
            self.follower.bus = self.bus
        return self.account

    async def load_account(self) -> None:
        self._own(await self.signer_pubkey())
        await super().load_account()

    def _following(self, bus: Bus, pubkey: str) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        self.bus = bus
        account = self._own(pubkey)
        return [("positions", self._poll_positions(account)), ("requests", self._follow_own_requests(bus))]

    async def _follow_own_requests(self, bus: Bus) -> None:
        try:
            await self._follow_requests(bus)
        finally:
            self.follower = None  # let go of it with the console: it holds their bus and websocket

    async def _poll_positions(self, account: WalletAccount) -> None:
        while True:
            await account.poll_noted(self.feed, self._publish)
            await self._sleep(self.cfg.positions_poll_s)

    # Read from the shared venue each time, as its feed and clock are (``TraderView``).
    @property
    def cfg(self) -> JupiterConfig:  # type: ignore[override]  # the venue's, read-only here
        return self.venue.cfg

    @property
    def _sleep(self) -> Callable[[float], Awaitable[Any]]:  # type: ignore[override]  # the venue's, read-only here
        return self.venue._sleep
