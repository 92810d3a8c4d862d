"""The price a custody trades at: its Doves oracle feed (Jupiter's oracle program).

A Doves ``PriceFeed`` account is the 8-byte discriminator
(``sha256("account:PriceFeed")[:8]``), ``pair`` [u8; 32], ``signer`` [u8; 33],
``price`` u64, ``expo`` i8, ``timestamp`` i64, ``bump`` u8 (the Doves IDL).
An ``AgPriceFeed`` (the aggregated feed) is ``mint``, ``edgeFeed``,
``clFeed``, ``pythFeed`` pubkeys, ``pythFeedId`` [u8; 32], then ``price``
u64, ``expo`` i8, ``timestamp`` i64 and its config.

Doves feeds carry no confidence interval. The custody's Pyth account
(``oracle.oracleAccount``, a Pyth receiver ``PriceUpdateV2``) does: the
discriminator, ``write_authority`` pubkey, ``verification_level`` (a Borsh
enum: 0 ``Partial`` with a u8 signature count, 1 ``Full``), then the price
message ``feed_id`` [u8; 32], ``price`` i64, ``conf`` u64, ``exponent`` i32,
``publish_time`` i64, ``prev_publish_time`` i64, ``ema_price`` i64,
``ema_conf`` u64, and ``posted_slot`` u64.
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
PRICE_UPDATE_V2 = hashlib.sha256(b"account:PriceUpdateV2").digest()[:8]
_PYTH_PRICE = struct.Struct("<qQiq")  # price, conf, exponent, publish_time


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



@dataclass(frozen=True)
class ConfidenceReading:
    """A Pyth price with its confidence interval, USD 6 decimals."""

    price: int
    confidence: int
    publish_time: int  # unix seconds


def decode_pyth_price_update(data: bytes) -> ConfidenceReading:
    if bytes(data[:8]) != PRICE_UPDATE_V2:
        raise AccountDecodeError(f"unknown discriminator {bytes(data[:8]).hex()}: not a Pyth PriceUpdateV2 account")
    at = 8 + 32
    if len(data) <= at:
        raise AccountDecodeError(f"{len(data)} bytes is too short for a Pyth price update; the data is truncated")
    level = data[at]
    if level not in (0, 1):
        raise AccountDecodeError(f"Pyth price update with unknown verification level {level}")
    at += 2 if level == 0 else 1
    at += 32  # feed id
    if len(data) < at + _PYTH_PRICE.size:
        raise AccountDecodeError(f"{len(data)} bytes is too short for a Pyth price update; the data is truncated")
    price, conf, expo, publish_time = _PYTH_PRICE.unpack_from(data, at)
    if price <= 0:
        raise AccountDecodeError(f"Pyth price update with a non-positive price ({price})")
    return ConfidenceReading(to_usd6(price, expo), to_usd6(conf, expo), publish_time)
