"""A moment in a recording, as a trader writes it for ``--from`` and ``--at``.

- ``+90s``, ``+1m30s``, ``+2h``, ``+250ms``: that long after the recording's
  first event;
- ``2026-11-18T11:06:50Z``, ``2026-11-18 11:06:50.250`` (UTC unless an offset
  is given): that moment;
- ``11:06:50``: that time of day (UTC), the first time it comes at or after
  the recording's start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timezone

NS = 1_000_000_000
DAY_NS = 86_400 * NS
_UNIT_NS = {"h": 3600 * NS, "m": 60 * NS, "s": NS, "ms": 1_000_000}
_DURATION = re.compile(r"^\+?((?:[0-9]+(?:\.[0-9]+)?(?:ms|h|m|s))+)$")
_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")
_TIME_OF_DAY = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])(?::([0-5][0-9])(\.[0-9]{1,9})?)?$")
HELP = "+90s / +1m30s after the start, a UTC time of day 11:06:50, or a moment 2026-11-18T11:06:50Z"


@dataclass(frozen=True, slots=True)
class Moment:
    text: str
    offset_ns: int | None = None  # after the first event
    at_ns: int | None = None  # since the epoch
    time_of_day_ns: int | None = None  # since midnight UTC

    def resolve(self, start_ns: int) -> int:
        """Nanoseconds since the epoch, for a recording starting at ``start_ns``."""
        if self.offset_ns is not None:
            return start_ns + self.offset_ns
        if self.at_ns is not None:
            return self.at_ns
        assert self.time_of_day_ns is not None
        midnight = start_ns - start_ns % DAY_NS
        at = midnight + self.time_of_day_ns
        return at if at >= start_ns else at + DAY_NS


def parse_moment(text: str) -> Moment:
    """ValueError saying which forms work for anything else."""
    s = text.strip()
    m = _DURATION.match(s)
    if m:
        total = sum(round(float(n) * _UNIT_NS[u]) for n, u in _PART.findall(m.group(1)))
        return Moment(s, offset_ns=total)
    m = _TIME_OF_DAY.match(s)
    if m:
        h, mi, sec, frac = m.groups()
        ns = ((int(h) * 60 + int(mi)) * 60 + int(sec or 0)) * NS + int((frac or ".0")[1:].ljust(9, "0"))
        return Moment(s, time_of_day_ns=ns)
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not a moment: use {HELP}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    whole = int(dt.replace(microsecond=0).timestamp()) * NS
    return Moment(s, at_ns=whole + dt.microsecond * 1000)


def format_ns(ts: int) -> str:
    """``2026-11-18 11:06:50.250 UTC``."""
    dt = datetime.fromtimestamp(ts // NS, tz=timezone.utc)
    return f"{dt:%Y-%m-%d %H:%M:%S}.{ts % NS // 1_000_000:03d} UTC"
