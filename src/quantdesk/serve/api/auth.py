"""Bearer tokens (JWT, HS256) and per-token rate limits for the data API.

A token carries its scopes in ``scope`` (space separated, OAuth style). A token
without a ``scope`` claim whose ``role`` is ``authenticated`` is a Supabase
user's session token: it may read market data, nothing more. ``exp`` is
required, so no token lives forever. The secret and the tokens never appear in
a message, a log or a repr.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import jwt

ALGORITHM = "HS256"
MARKET_READ = "market:read"
POSITIONS_READ = "positions:read"
SCOPES = (MARKET_READ, POSITIONS_READ)
LEEWAY_S = 5  # clocks on two machines disagree a little


class TokenError(Exception):
    """A token that cannot be used. Deliberately without detail for clients."""


@dataclass(frozen=True)
class Grant:
    """What a verified token allows; ``key`` names its rate-limit bucket."""

    key: str
    scopes: frozenset[str]
    subject: str = field(default="", repr=False)


def mint_token(secret: str, scopes: list[str], ttl_s: int, now_s: int, subject: str = "quantdesk-script") -> str:
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}: use {' or '.join(SCOPES)}")
    if ttl_s <= 0:
        raise ValueError("the token's lifetime must be more than 0 seconds")
    claims = {
        "sub": subject,
        "scope": " ".join(dict.fromkeys(scopes)),
        "iat": now_s,
        "exp": now_s + ttl_s,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify(token: str, secret: str, now_s: float) -> Grant:
    """The grant of a valid, unexpired HS256 token signed with ``secret``."""
    try:
        # PyJWT checks exp against its own clock; the check below uses ours.
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp"], "verify_exp": False, "verify_aud": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        raise TokenError("invalid token") from None
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or now_s > exp + LEEWAY_S:
        raise TokenError("expired token")
    scope = claims.get("scope")
    if isinstance(scope, str):
        scopes = frozenset(scope.split())
    elif scope is None and claims.get("role") == "authenticated":
        scopes = frozenset({MARKET_READ})
    else:
        scopes = frozenset()
    key = str(claims.get("jti") or claims.get("sub") or token[-16:])
    return Grant(key=key, scopes=scopes, subject=str(claims.get("sub", "")))


def parse_ttl(text: str) -> int:
    """``90s``, ``15m``, ``1h``, ``7d`` or plain seconds, as seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    t = text.strip().lower()
    mult = units.get(t[-1:], None)
    number = t[:-1] if mult else t
    try:
        n = int(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a lifetime: use e.g. 90s, 15m, 1h or 7d") from None
    if n <= 0:
        raise ValueError("the token's lifetime must be more than 0 seconds")
    return n * (mult or 1)


class RateLimiter:
    """A token bucket per key: ``burst`` requests at once, refilled at
    ``rate_per_s``. Time comes from ``clock`` (seconds, monotonic). Buckets idle
    long enough to be full are forgotten, so memory follows active tokens."""

    def __init__(self, rate_per_s: float, burst: int, clock: Callable[[], float]) -> None:
        self.rate = rate_per_s
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0 when the request may proceed, else seconds until it may."""
        now = self.clock()
        tokens, at = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 10_000:
                self._forget(now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget(self, now: float) -> None:
        full = self.burst / self.rate
        for k, (_, at) in list(self._buckets.items()):
            if now - at > full:
                del self._buckets[k]


def retry_after(seconds: float) -> str:
    """``Retry-After`` is whole seconds; round up so a client never retries early."""
    return str(max(1, math.ceil(seconds)))
