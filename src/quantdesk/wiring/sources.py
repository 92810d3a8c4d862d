"""Which venues a session runs on: the one place ``run``, ``show`` and ``feed`` choose.

``auto`` (the default) means the live venues the config turns on (any
registered venue with a ``[venues.NAME]`` section), or the registered
simulated venues when it turns none on; ``sim`` forces the simulated venues; a ``redis://`` or ``rediss://`` URL reads a QuantDesk feed
process instead of connecting to any venue, and a ``replay://`` address plays a
recording back.
"""

from __future__ import annotations

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
    "or replay:///path/to/recording"
)


class SourceError(ValueError):
    """A source the trader named cannot be used; the message says what to do."""


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
        raise SourceError(f"unknown source {source!r}: use auto, sim, a redis://host:port URL of a running `quantdesk feed` or replay:///path/to/recording")
    if source == "auto" and settings is not None and registry.configured(settings):
        signing = open_configured(settings)
        venues = live_venues(settings, clock, signing)
        return Session(venues, clock or time.time_ns, signer=signing[0])
    options = registry.BuildOptions(clock=clock, seed=seed, rate=rate, paused=paused)
    sims = registry.build(registry.simulated(settings), options)
    return Session(sims, clock or shared_clock(sims))
