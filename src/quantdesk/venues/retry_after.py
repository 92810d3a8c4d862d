"""How long a rate-limited server asks to be left alone (HTTP ``Retry-After``).

Shared by every HTTP client of the venues: the DLOB server and data API hosts
and the Solana JSON-RPC client all park a host that answers 429 for this long.
"""

from __future__ import annotations

import email.utils
import time

MAX_RETRY_AFTER_S = 120.0  # a hostile or broken header must not park a host for hours


def retry_after_s(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        secs = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        secs = when - (time.time() if now is None else now)
    if secs != secs:  # NaN
        return None
    return min(max(secs, 0.0), MAX_RETRY_AFTER_S)
