"""The price a custody trades at: its Doves oracle feed (Jupiter's oracle program).

A Doves ``PriceFeed`` account is the 8-byte discriminator
(``sha256("account:PriceFeed")[:8]``), ``pair`` [u8; 32], ``signer`` [u8; 33],
``price`` u64, ``expo`` i8, ``timestamp`` i64, ``bump`` u8 (the Doves IDL).
An ``AgPriceFeed`` (the aggregated feed) is ``mint``, ``edgeFeed``,
``clFeed``, ``pythFeed`` pubkeys, ``pythFeedId`` [u8; 32], then ``price``
u64, ``expo`` i8, ``timestamp`` i64 and its config.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass

from quantdesk.venues.jupiter.accounts import AccountDecodeError

PRICE_FEED = hashlib.sha256(b"account:PriceFeed").digest()[:8]
AG_PRICE_FEED = hashlib.sha256(b"account:AgPriceFeed").digest()[:8]
_OFFSETS = {PRICE_FEED: 8 + 32 + 33, AG_PRICE_FEED: 8 + 4 * 32 + 32}
_TAIL = struct.Struct("<QbQ")  # price, expo, timestamp (packed, as borsh)


@dataclass(frozen=True)
class OracleReading:
    price: int  # USD with 6 decimals
    timestamp: int  # unix seconds of the oracle's own update


def to_usd6(price: int, expo: int) -> int:
    shift = expo + 6
    return price * 10**shift if shift >= 0 else price // 10 ** (-shift)


def decode_price_feed(data: bytes) -> OracleReading:
    offset = _OFFSETS.get(bytes(data[:8]))
    if offset is None:
        raise AccountDecodeError(f"unknown discriminator {bytes(data[:8]).hex()}: not a Doves price feed")
    if len(data) < offset + _TAIL.size:
        raise AccountDecodeError(f"{len(data)} bytes is too short for a Doves price feed; the data is truncated")
    price, expo, ts = _TAIL.unpack_from(data, offset)
    return OracleReading(to_usd6(price, expo), ts)

