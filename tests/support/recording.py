"""Recordings of a real simulated session (paused, seeded, on a manual clock),
with paper orders and fills, and reading a replay's screen."""

from __future__ import annotations

from pathlib import Path

from quantdesk.core.cache_state import state_events
from quantdesk.core.model import OrderIntent
from quantdesk.core.venue import Playback
from quantdesk.venues.recording.address import replay_url
from quantdesk.venues.session import Session
from quantdesk.wiring.recorder import SessionRecorder
from quantdesk.wiring.sources import build_session
from quantdesk.wiring.trading import open_paper_trading
from support.app import paused_session

SOL = 10**9


class Tape:
    """Every event a bus carried, in order (what a replay must carry again)."""

    def __init__(self, session: Session, skip_venue: str | None = None) -> None:
        self.events: list[object] = []
        self.skip_venue = skip_venue
        session.bus.subscribe("#", self._on)

    def _on(self, topic: str, event: object) -> None:
        if getattr(event, "venue", None) != self.skip_venue:
            self.events.append(event)


async def record_sim_session(
    path: Path, *, events: int = 4_000, orders: bool = True, max_bytes: int = 256 << 20, keep: int = 0, journal: Path | None = None
) -> tuple[list[object], SessionRecorder]:
    """Record a paused sim session with paper trading, driven ``events``
    events, with a resting limit order and a market order (filled) half way
    when ``orders``. Returns what the recording must hold (the cache's state
    when the recorder attached, then everything the bus carried until it
    closed) and the closed recorder."""
    session = paused_session()
    trading = open_paper_trading(session, journal or path.with_suffix(".journal.sqlite3"))
    recorder = SessionRecorder(session, path, max_bytes=max_bytes, keep=keep)
    opening = state_events(session.cache)  # the paper engines bound the sims: their opening state is cached
    recorder.attach()
    tape = Tape(session)
    try:
        await session.start()
        session.advance(events // 2)
        recorder.flush()
        if orders:
            book = session.cache.book("sim-drift", "SOL-PERP")
            assert book is not None and book.best_bid() is not None
            bid = book.best_bid()[0]
            rest = OrderIntent("sim-drift", "SOL-PERP", "buy", "limit", 2 * SOL, price=bid - 50_000, client_id="rest-1")
            take = OrderIntent("sim-drift", "SOL-PERP", "buy", "market", SOL, client_id="take-1")
            assert (await trading.router.submit(rest)).ok
            assert (await trading.router.submit(take)).ok
        session.advance(events - events // 2)
        recorder.close()
        recorded = [*opening, *tape.events]
    finally:
        await session.stop()
        trading.close()
    return recorded, recorder


def replay_session(path: Path, **options: object) -> Session:
    """A session on the replay of ``path``, built as ``quantdesk replay`` builds it."""
    return build_session(None, source=replay_url(path, **options))


def playback(session: Session) -> Playback:
    (p,) = [v for v in session.venues.values() if isinstance(v, Playback)]
    return p


def state_of_depth(events: list[object], venue: str, market: str, n: int) -> tuple[int, list, list]:
    """(seq, best ``n`` bids and asks as decimal strings) of a book after ``events``."""
    from quantdesk.core.cache import MarketCache
    from quantdesk.core.model import Market

    cache = MarketCache()
    for ev in events:
        cache.on_event("", ev)
    book = cache.books[(venue, market)]
    m = Market(venue, market, "", "", "clob", 1, 1)
    side = lambda levels: [(m.price(p), m.size(s)) for p, s in levels[:n]]  # noqa: E731
    return book.seq, side(book.sorted_bids()), side(book.sorted_asks())
