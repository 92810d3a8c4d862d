"""Where the browser tabs' consoles read their market data.

Each tab is a console process of its own, so without a shared feed each one
connects to the venues itself: N tabs, N sets of venue connections (and N
simulated markets drifting apart). With a Redis configured ([redis] url or
$QUANTDESK_REDIS_URL) the server runs one feed for all of them: it publishes
its session to that Redis, in the team's namespace, the way ``quantdesk feed``
does, and every tab reads it (``--source feed``, so the URL and its password
stay out of the tabs' command lines). A feed already publishing there is read
as it is, never doubled. A named ``--source redis://...`` is read by every
tab as given.

A feed carries market data only (account events stay with the process that
trades), so tabs on a shared feed show the market and place no orders; an
operator who wants each tab to trade on venues of its own asks for that
(``own_feeds``) and pays for it with a set of venue connections per tab.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from quantdesk.sync.redis_feed import FeedPublisher
from quantdesk.sync.session_feed import SessionFeed, feed_alive
from quantdesk.venues import registry
from quantdesk.venues.recording.address import SCHEME as REPLAY_SCHEME
from quantdesk.venues.redis_conn import redact
from quantdesk.venues.session import Session
from quantdesk.wiring.sources import (
    FEED_SOURCE,
    REDIS_URL_ENV,
    SourceError,
    build_session,
    configured_feed_url,
    configured_redis_url,
)

OWN_SOURCES = ("auto", "sim")  # sources the server can run itself, once for every tab


@dataclass
class TabFeed:
    """The source each tab's console is given, and the feed the server runs
    for them all (when it runs one)."""

    tab_source: str
    shared: bool  # every tab reads one feed
    read: str = ""  # the feed they read when the server runs none (redacted)
    asked_own: bool = False  # each tab runs its own by request, a Redis being there
    url: str = field(default="", repr=False)  # the Redis the server publishes to
    namespace: str = "default"
    session: Session | None = field(default=None, repr=False)  # the server's own, not started yet
    running: SessionFeed | None = field(default=None, repr=False)

    async def start(self) -> str:
        """Start the server's feed, unless one already publishes there; the line to tell the operator."""
        shown = f"{redact(self.url)} namespace {self.namespace}"
        if self.session is None:
            if self.shared:
                return f"every tab reads the feed at {self.read} (market data only)"
            own = (f"each tab runs its own feed (--source {self.tab_source}) and trades on it: N tabs cost N sets "
                   "of venue connections")
            if self.asked_own:
                return f"{own} (--own-feeds)"
            return (f"{own}. To share one, set [redis] url in the config (or ${REDIS_URL_ENV}) and "
                    "the server publishes one for every tab, or pass --source redis://... of a running `quantdesk feed`")
        if await feed_alive(self.url, self.namespace):
            self.session = None  # never started: no venue was connected
            return f"a QuantDesk feed already publishes at {shown}: every tab reads it (market data only)"
        self.running = SessionFeed(self.session, FeedPublisher(self.url, self.namespace))
        await self.running.start()
        venues = ", ".join(sorted({m.venue for m in self.session.markets})) or "no venue up yet"
        return (f"one feed for every tab: {venues} published to {shown}; tabs show the market and place no "
                "orders (--own-feeds: each tab trades on venues of its own)")

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.running = None


def plan_tab_feed(settings: Any, source: str, *, own_feeds: bool = False) -> TabFeed:
    """What the tabs read for ``--source`` (``own_feeds``: each tab runs it
    itself, even with a Redis configured); SourceError with what to do."""
    source = (source or "auto").strip()
    if source.lower().startswith(f"{REPLAY_SCHEME}:"):
        raise SourceError("to play a recording back, run `quantdesk replay FILE`; serve web serves live consoles")
    if source == FEED_SOURCE:  # none configured: said now, not in every tab
        return TabFeed(FEED_SOURCE, shared=True, read=redact(configured_feed_url(settings)))
    if registry.source_for(source) is not None:
        return TabFeed(source, shared=True, read=redact(source))
    if source not in OWN_SOURCES:
        build_session(settings, source=source)  # raises the unknown-source message
    url = configured_redis_url(settings)
    if not url or own_feeds:
        return TabFeed(source, shared=False, asked_own=bool(url))
    return TabFeed(FEED_SOURCE, shared=True, url=settings.redis.url_for(url), namespace=settings.redis.team,
                   session=build_session(settings, source=source))
