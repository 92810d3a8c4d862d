"""Jupiter Perps accounts decode from the IDL: every real mainnet account gives its
expected values field by field; both the IDL length and the bigger live allocation
are accepted; foreign and truncated bytes are refused with a clear message."""

from __future__ import annotations

import base64
import hashlib
import struct

import pytest
from support.jupiter_fixtures import LONG_POSITION, POOL, SOL_CUSTODY, data, lines, lookup

from quantdesk.venues.jupiter.accounts import AccountDecodeError, AccountDecoder, IdlError, decoder, discriminator

LIVE_SIZES = {"Custody": 2000, "Pool": 2000, "Position": 216, "PositionRequest": 312}
IDL_SIZES = {"Custody": 1060, "Position": 210}


@pytest.mark.parametrize("line", lines(), ids=lambda x: f"{x['account']}-{x['pubkey'][:6]}")
def test_every_fixture_account_decodes_to_its_expected_values(line):
    acc = decoder().decode(base64.b64decode(line["data_b64"]))
    assert acc.name == line["account"]
    assert acc.data_length == LIVE_SIZES[acc.name]
    checked = 0
    for key, want in line["expect"].items():
        if key.startswith("derived."):
            continue
        assert lookup(acc.fields, key) == want, key
        checked += 1
    assert checked >= 4


def test_discriminators_are_sha256_of_the_account_name():
    assert discriminator("Position").hex() == "aabc8fe47a40f7d0"
    assert discriminator("Custody") == hashlib.sha256(b"account:Custody").digest()[:8]
    assert data(SOL_CUSTODY)[:8] == discriminator("Custody")


def test_bytes_past_the_idl_are_kept_and_counted_not_decoded():
    custody = decoder().decode(data(SOL_CUSTODY))
    assert custody.idl_length == IDL_SIZES["Custody"]
    assert custody.bytes_past_idl == 940
    assert custody.tail == data(SOL_CUSTODY)[1060:]
    pool = decoder().decode(data(POOL))
    # the pool's layout length moves with its name string and custodies vec: 8 + 4+4 + 4+6*32 + ...
    assert pool.idl_length == 423 and pool.bytes_past_idl == 2000 - 423


def test_an_account_at_the_idl_length_decodes_like_the_live_one():
    live = decoder().decode(data(LONG_POSITION))
    old = decoder().decode(data(LONG_POSITION)[: IDL_SIZES["Position"]])
    assert old.fields == live.fields
    assert old.bytes_past_idl == 0 and live.bytes_past_idl == 6


def test_values_come_from_the_documented_offsets():
    """Independent of the IDL: the long position's size at its byte offset (8 + 4*32 + 8 + 8 + 1 + 8)."""
    raw = data(LONG_POSITION)
    size_usd = struct.unpack_from("<Q", raw, 8 + 128 + 16 + 1 + 8)[0]
    assert decoder().decode(raw).fields["size_usd"] == size_usd == 1183738004


def test_truncated_account_is_refused_with_its_type_and_length():
    with pytest.raises(AccountDecodeError, match=r"100 bytes is too short for a Custody account"):
        decoder().decode(data(SOL_CUSTODY)[:100])
    with pytest.raises(AccountDecodeError, match="too short for an account"):
        decoder().decode(b"\x01\x02")


def test_foreign_account_is_refused_naming_the_discriminator():
    foreign = hashlib.sha256(b"account:PerpMarket").digest()[:8] + bytes(200)
    with pytest.raises(AccountDecodeError, match=r"unknown discriminator [0-9a-f]{16}: not a Jupiter Perps account"):
        decoder().decode(foreign)


def test_expected_type_mismatch_is_refused():
    with pytest.raises(AccountDecodeError, match="a Position account, not a Custody"):
        decoder().decode(data(LONG_POSITION), expect="Custody")


def test_an_idl_of_another_program_is_refused():
    with pytest.raises(IdlError, match="not the Jupiter Perps IDL"):
        AccountDecoder('{"version": "0.1.0", "name": "x", "instructions": [], "accounts": []}', source="x.json")
    with pytest.raises(IdlError, match="legacy"):
        AccountDecoder("{not json", source="bad.json")


def test_pyth_price_update_gives_price_and_confidence_in_usd():
    from support.jupiter_chain import pyth_price_update

    from quantdesk.venues.jupiter.oracle import decode_pyth_price_update

    full = decode_pyth_price_update(pyth_price_update(11_801_000_000, 5_900_000, -8, 1_790_272_210))
    assert (full.price, full.confidence, full.publish_time) == (118_010_000, 59_000, 1_790_272_210)
    partial = decode_pyth_price_update(pyth_price_update(11_801_000_000, 5_900_000, -8, 7, full=False))
    assert partial.confidence == 59_000 and partial.publish_time == 7
    with pytest.raises(AccountDecodeError, match="truncated"):
        decode_pyth_price_update(pyth_price_update(1, 1, -8, 1)[:60])
    with pytest.raises(AccountDecodeError, match="not a Pyth PriceUpdateV2"):
        decode_pyth_price_update(bytes(100))
