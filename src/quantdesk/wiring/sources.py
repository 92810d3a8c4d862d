"""Which venues a session runs on: the one place ``run``, ``show`` and ``feed`` choose.

``auto`` (the default) means the live venues the config turns on, or the
embedded simulated venues when it turns none on; ``sim`` forces the
simulated venues; a ``redis://`` or ``rediss://`` URL reads a QuantDesk feed
process instead of connecting to any venue.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from quantdesk.venues.session import Session, simulated_session

SOURCES_HELP = (
    "where market data comes from: auto (configured live venues, else the simulated ones), "
    "sim (the embedded simulated venues), or a redis:// / rediss:// URL of a `quantdesk feed`"
)


class SourceError(ValueError):
    """A source the trader named cannot be used; the message says what to do."""


def is_redis_url(source: str | None) -> bool:
    return bool(source) and source.split("://", 1)[0] in ("redis", "rediss", "unix")  # type: ignore[union-attr]


def live_venues(settings: Any, clock: Callable[[], int] | None = None) -> list[Any]:
    """The live venues the config turns on (a ``[venues.NAME]`` section)."""
    venues = []
    for name in ("drift", "velocity"):
        deployment = getattr(settings.venues, name, None) if settings is not None else None
        if deployment is not None:
            from quantdesk.venues.drift.venue import DriftVenue

            kwargs = {"clock": clock} if clock is not None else {}
            venues.append(DriftVenue(deployment, **kwargs))
    return venues


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
    sim = getattr(settings, "sim", None)
    seed = seed if seed is not None else (sim.seed if sim is not None else 7)
    rate = rate if rate is not None else (sim.rate if sim is not None else 200.0)
    if is_redis_url(source):
        from quantdesk.venues.relay.venue import redis_session

        team = settings.redis.team if settings is not None else "default"
        return redis_session(source, namespace=team, clock=clock)
    if source == "sim":
        return simulated_session(seed=seed, rate=rate, clock=clock, paused=paused)
    if source == "auto":
        venues = live_venues(settings, clock)
        if not venues:
            return simulated_session(seed=seed, rate=rate, clock=clock, paused=paused)
        import time

        return Session(venues, clock or time.time_ns)
    raise SourceError(f"unknown source {source!r}: use auto, sim, or a redis://host:port URL of a running `quantdesk feed`")
