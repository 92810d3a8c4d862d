"""Where the browser tabs' consoles read their market data.

By default each tab is a console of its own on ``--source``, exactly as
``quantdesk run``: it connects to the venues itself and trades on them
(paper on the simulated ones), at the cost of a set of venue connections per
tab (and, simulated, markets of their own drifting apart).

``shared_feed`` trades that for one feed: the server publishes its session to
the configured Redis ([redis] url or $QUANTDESK_REDIS_URL), in the team's
namespace, the way ``quantdesk feed`` does, and every tab reads it (``--source
feed``, so the URL and its password stay out of the tabs' command lines). A
feed already publishing there is read as it is, never doubled. A feed carries
market data only (account events stay with the process that trades), so such
tabs are watch-only; so are tabs given a feed by name (``--source feed`` or
``redis://...``).
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
WATCH_ONLY = ("Tabs are watch-only: orders are not available in this mode, not even paper trading; "
              "for tabs that trade, start serve web without --shared-feed and with --source auto or sim")


@dataclass
class TabFeed:
    """The source each tab's console is given, and the feed the server runs
    for them all (when it runs one)."""

    tab_source: str
    shared: bool  # every tab reads one feed
    read: str = ""  # the feed they read when the server runs none (redacted)
    redis_configured: bool = False  # --shared-feed would work as it is
    url: str = field(default="", repr=False)  # the Redis the server publishes to
    namespace: str = "default"
    session: Session | None = field(default=None, repr=False)  # the server's own, not started yet
    running: SessionFeed | None = field(default=None, repr=False)

    async def start(self) -> str:
        """Start the server's feed, unless one already publishes there; the line to tell the operator."""
        shown = f"{redact(self.url)} namespace {self.namespace}"
        if self.session is None:
            if self.shared:
                return f"every tab reads the feed at {self.read}. {WATCH_ONLY}"
            to_share = ("" if self.redis_configured
                        else f" (it needs a Redis: set [redis] url in the config or ${REDIS_URL_ENV})")
            return (f"each tab runs its own venues (--source {self.tab_source}) and trades on them, as `quantdesk run` "
                    f"does: N tabs cost N sets of venue connections. --shared-feed runs one feed for every tab, "
                    f"watch-only{to_share}")
        if await feed_alive(self.url, self.namespace):
            self.session = None  # never started: no venue was connected
            return f"a QuantDesk feed already publishes at {shown}: every tab reads it. {WATCH_ONLY}"
        self.running = SessionFeed(self.session, FeedPublisher(self.url, self.namespace))
        await self.running.start()
        venues = ", ".join(sorted({m.venue for m in self.session.markets})) or "no venue up yet"
        return f"one feed for every tab: {venues} published to {shown}. {WATCH_ONLY}"

    async def stop(self) -> None:
        if self.running is not None:
            await self.running.stop()
            self.running = None


def plan_tab_feed(settings: Any, source: str, *, shared_feed: bool = False) -> TabFeed:
    """What the tabs read for ``--source`` (``shared_feed``: one feed the
    server publishes for them all); SourceError with what to do."""
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
    if not shared_feed:
        return TabFeed(source, shared=False, redis_configured=bool(url))
    if not url:
        raise SourceError(f"--shared-feed publishes one feed for every tab through a Redis, and none is configured: "
                          f"set [redis] url in the config or ${REDIS_URL_ENV}, or drop --shared-feed "
                          "for tabs that each run their own venues and trade")
    return TabFeed(FEED_SOURCE, shared=True, url=settings.redis.url_for(url), namespace=settings.redis.team,
                   session=build_session(settings, source=source))
