"""A shared live venue as one trader served over SSH trades it.

``quantdesk serve ssh`` runs each live venue once: its market data serves
every console. A trader's view of it signs with the signer they brought
(their forwarded agent), never the venue's own, and follows their account
and orders onto their console's bus only, for as long as the console
follows it (``follow_account``): whatever it starts for them ends with it.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from typing import Any

from quantdesk.core.bus import Bus


class TraderView(ABC):
    """The parts every venue's trader view shares; a venue names what it
    follows for the trader (``_following``)."""

    def __init__(self, venue: Any, signer: Any, signer_problem: str | None = None) -> None:
        self.venue = venue
        self.id: str = venue.id
        self.signer = signer
        self.signer_problem = f"{self.id}: {signer_problem}" if signer_problem else None
        self.watch: str | None = None  # the trader's wallet, once followed

    async def signer_pubkey(self) -> str:
        """The trader's public key, asked off the event loop: a forwarded agent
        may be served by it."""
        signer = self.signer
        return str(await asyncio.to_thread(lambda: signer.pubkey))

    async def follow_account(self, bus: Bus) -> None:
        """Follow the trader's account onto ``bus`` until cancelled."""
        pubkey = await self.signer_pubkey()
        following = self._following(bus, pubkey)
        self.watch = pubkey
        async with asyncio.TaskGroup() as all_of:  # one failing stops the others: nothing outlives the console
            for name, work in following:
                all_of.create_task(work, name=f"{self.id}-{name}:{pubkey}")

    @abstractmethod
    def _following(self, bus: Bus, pubkey: str) -> list[tuple[str, Coroutine[Any, Any, None]]]:
        """What follows the trader's account, by name, each running until cancelled."""

    # Read from the shared venue each time: its feed serves every trader, and its clock is theirs too.
    @property
    def feed(self) -> Any:
        return self.venue.feed

    @property
    def _clock(self) -> Callable[[], int]:
        clock: Callable[[], int] = self.venue._clock
        return clock

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"
