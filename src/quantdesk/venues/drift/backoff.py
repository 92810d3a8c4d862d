"""Exponential backoff with jitter, so many clients do not retry in step."""

from __future__ import annotations

import random


def backoff_s(attempt: int, initial: float, maximum: float, rand: random.Random | None = None) -> float:
    """Delay before retry ``attempt`` (0-based): initial x 2^attempt, capped, times 0.5-1.0."""
    base = min(maximum, initial * (2 ** min(attempt, 32)))
    r = (rand or random).random()
    return base * (0.5 + 0.5 * r)
