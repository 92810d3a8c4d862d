"""Which venues a session runs on: the one place ``run``, ``show`` and ``feed`` choose.

``auto`` (the default) means the live venues the config turns on (any
registered venue with a ``[venues.NAME]`` section), or the registered
simulated venues when it turns none on; ``sim`` forces the simulated venues; a ``redis://`` or ``rediss://`` URL reads a QuantDesk feed
process instead of connecting to any venue, ``feed`` reads the one in the
configured Redis (its URL, password and all, stays out of the command line,
where ``ps`` would show it), and a ``replay://`` address plays a recording back.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from quantdesk.signing.base import Signer
from quantdesk.venues import registry
from quantdesk.venues.base import VenueError
from quantdesk.venues.redis_conn import SCHEMES as REDIS_SCHEMES
from quantdesk.venues.session import Session, shared_clock
from quantdesk.wiring.signer import open_configured

SOURCES_HELP = (
    "where market data comes from: auto (configured live venues, else the simulated ones), "
    "sim (the embedded simulated venues), a redis:// / rediss:// URL of a `quantdesk feed`, "
    "feed (the `quantdesk feed` in the configured Redis: $QUANTDESK_REDIS_URL, else [redis] url), "
    "or replay:///path/to/recording"
)
FEED_SOURCE = "feed"
REDIS_URL_ENV = "QUANTDESK_REDIS_URL"


class SourceError(ValueError):
    """A source the trader named cannot be used; the message says what to do."""


def configured_redis_url(settings: Any) -> str:
    """The Redis this machine is told to use: ``$QUANTDESK_REDIS_URL``, else
    ``[redis] url``; "" for none."""
    if os.environ.get(REDIS_URL_ENV):
        return os.environ[REDIS_URL_ENV]
    url = getattr(getattr(settings, "redis", None), "url", None)
    return url.get_secret_value() if url is not None else ""


def configured_feed_url(settings: Any) -> str:
    """Where ``--source feed`` reads: the configured Redis, else SourceError."""
    url = configured_redis_url(settings)
    if not url:
        raise SourceError(f"--source {FEED_SOURCE} reads the feed in the configured Redis, and none is configured: "
                          f"set [redis] url in the config or ${REDIS_URL_ENV}, or name it: --source redis://host:6379/0")
    return url


def live_venues(
    settings: Any, clock: Callable[[], int] | None = None, signing: tuple[Signer | None, str | None] | None = None
) -> list[Any]:
    """The live venues the config turns on (a ``[venues.NAME]`` section), each
    given the trader's signer (``signing``: a signer already opened, and why
    there is none; default: opened from ``settings``)."""
    if settings is None:
        return []
    entries = registry.configured(settings)
    if not entries:
        return []
    signer, problem = signing if signing is not None else open_configured(settings)
    return registry.build(entries, registry.BuildOptions(clock=clock, signer=signer, signer_problem=problem))


def build_session(
    settings: Any = None,
    *,
    source: str | None = None,
    seed: int | None = None,
    rate: float | None = None,
    clock: Callable[[], int] | None = None,
    paused: bool = False,
) -> Session:
    source = (source or "auto").strip()
    if source == FEED_SOURCE:
        source = configured_feed_url(settings)
    reader = registry.source_for(source)
    if reader is not None:
        team = settings.redis.team if settings is not None else "default"
        # a redis source's client options (cluster) ride on its URL; other sources take theirs as given
        url = settings.redis.url_for(source) if settings is not None and set(reader.schemes) <= set(REDIS_SCHEMES) else source
        try:
            venues = reader.open(url, registry.SourceOptions(namespace=team, clock=clock))
        except VenueError as exc:
            raise SourceError(str(exc)) from None
        # a source with a clock of its own (a replay's recorded time) sets the session's
        return Session(venues, clock or shared_clock(venues))
    if source not in ("auto", "sim"):
        raise SourceError(f"unknown source {source!r}: use auto, sim, feed, a redis://host:port URL of a running `quantdesk feed` or replay:///path/to/recording")
    if source == "auto" and settings is not None and registry.configured(settings):
        signing = open_configured(settings)
        venues = live_venues(settings, clock, signing)
        return Session(venues, clock or time.time_ns, signer=signing[0])
    options = registry.BuildOptions(clock=clock, seed=seed, rate=rate, paused=paused)
    sims = registry.build(registry.simulated(settings), options)
    return Session(sims, clock or shared_clock(sims))
