"""How a replay is asked for: ``replay:///path/to/FILE?speed=10&from=+30s``.

The replay venue registers for the ``replay`` scheme (``--source replay:///...``);
``quantdesk replay`` and ``quantdesk show --replay`` build the same address.
Query keys: ``speed`` (times recorded time, ``max`` or 0: as fast as it
goes), ``from`` (play instantly up to that moment, then at speed), ``until``
(stop there), ``paused`` (start paused: the step key moves on).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from quantdesk.venues.recording.times import Moment, parse_moment

SCHEME = "replay"
SPEED_MIN = 1 / 64
SPEED_MAX = 4096.0
MAX_SPEED = 0.0  # as fast as the machine goes


@dataclass(frozen=True)
class ReplayRequest:
    path: Path
    speed: float = 1.0
    start: Moment | None = None
    until: Moment | None = None
    paused: bool = False


def parse_speed(text: str) -> float:
    """``10``, ``0.5``, ``10x``, ``max``; ValueError naming the bounds."""
    s = text.strip().lower()
    if s in ("max", "0"):
        return MAX_SPEED
    s = s.removesuffix("x")
    try:
        speed = float(s)
    except ValueError:
        raise ValueError(f"speed {text!r} is not a number: use e.g. 10 (ten times recorded time), 0.5 or max") from None
    if not SPEED_MIN <= speed <= SPEED_MAX:
        raise ValueError(f"speed {text!r} is out of range: use {SPEED_MIN:g} to {SPEED_MAX:g}, or max")
    return speed


def replay_url(
    path: str | Path, *, speed: float = 1.0, start: str | None = None, until: str | None = None, paused: bool = False
) -> str:
    query: dict[str, str] = {}
    if speed != 1.0:
        query["speed"] = "max" if speed == MAX_SPEED else repr(speed)
    if start:
        query["from"] = start
    if until:
        query["until"] = until
    if paused:
        query["paused"] = "1"
    where = quote(str(Path(path).expanduser().resolve()))
    return f"{SCHEME}://{where}" + (f"?{urlencode(query)}" if query else "")


def parse_replay_url(url: str) -> ReplayRequest:
    """ValueError saying what is wrong with the address."""
    parts = urlsplit(url)
    if parts.scheme.lower() != SCHEME:
        raise ValueError(f"{url!r} is not a replay address: write replay:///path/to/recording")
    where = unquote(parts.netloc + parts.path)
    if not where:
        raise ValueError("the replay address names no file: write replay:///path/to/recording")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(query) - {"speed", "from", "until", "paused"})
    if unknown:
        raise ValueError(f"unknown replay option {unknown[0]!r}: use speed, from, until or paused")
    return ReplayRequest(
        Path(where),
        speed=parse_speed(query["speed"]) if "speed" in query else 1.0,
        start=parse_moment(query["from"]) if query.get("from") else None,
        until=parse_moment(query["until"]) if query.get("until") else None,
        paused=query.get("paused", "") in ("1", "true", "yes"),
    )
