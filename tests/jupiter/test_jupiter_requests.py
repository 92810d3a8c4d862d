"""Jupiter Perps position requests: the PDAs match real mainnet accounts, every
request's data decodes with the IDL (by anchorpy's coder, independently of the
builder) to the arguments asked for, its accounts follow the IDL's order and
flags, and the signed transaction passes a real SVM's signature check."""

from __future__ import annotations

import pytest
from anchorpy.coder.instruction import InstructionCoder
from anchorpy_core.idl import Idl
from solders.hash import Hash
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from quantdesk.venues.jupiter import requests as rq
from quantdesk.venues.jupiter.accounts import bundled_idl_path, decoder
from quantdesk.venues.jupiter.config import DEFAULT_COLLATERAL, PROGRAM_ID

from support.jupiter_fixtures import LONG_POSITION, POOL, SOL_CUSTODY, data, lines

PROGRAM = Pubkey.from_string(PROGRAM_ID)
USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
IDL_JSON = bundled_idl_path().read_text()
IDL = {i["name"]: i for i in __import__("json").loads(IDL_JSON)["instructions"]}
CODER = InstructionCoder(Idl.from_json(IDL_JSON))


def _sol_custody() -> rq.CustodyRef:
    return rq.CustodyRef.from_decoded(SOL_CUSTODY, decoder().decode(data(SOL_CUSTODY)).fields)


def _usdc_custody() -> rq.CustodyRef:
    # the stable custody's account from the config; its oracles are not needed by these requests' checks
    return rq.CustodyRef(Pubkey.from_string(DEFAULT_COLLATERAL["USDC"]), USDC, Pubkey.new_unique(), Pubkey.new_unique())


def _market(side: str) -> rq.Market:
    collateral = _sol_custody() if side == "long" else _usdc_custody()
    return rq.Market(PROGRAM, Pubkey.from_string(POOL), _sol_custody(), collateral, side)  # type: ignore[arg-type]


def _decoded(ix) -> tuple[str, dict]:
    named = CODER.parse(bytes(ix.data))
    params = named.data["params"]
    plain = {k: (type(v).__name__ if hasattr(v, "index") and not isinstance(v, (int, bool)) else v)
             for k, v in vars(params).items() if not k.startswith("_")}  # fmt: skip
    return named.name, plain


def test_the_position_and_request_addresses_are_those_of_real_mainnet_accounts():
    dec = decoder()
    position = dec.decode(data(LONG_POSITION)).fields
    owner = Pubkey.from_string(position["owner"])
    assert str(rq.position_pda(owner, _market("long"))) == LONG_POSITION
    requests = [(ln["pubkey"], dec.decode(data(ln["pubkey"])).fields) for ln in lines()]
    requests = [(pk, f) for pk, f in requests if "request_change" in f]
    assert len(requests) == 2
    for pubkey, f in requests:
        pda = rq.request_pda(Pubkey.from_string(f["position"]), f["counter"], f["request_change"], PROGRAM)
        assert str(pda) == pubkey


def test_open_long_at_market_decodes_with_the_idl_to_the_arguments_given():
    owner = Pubkey.new_unique()
    built = rq.RequestBuilder(owner).open(_market("long"), size_usd=1_500_000_000, collateral_tokens=2_000_000_000,
                                          price_slippage=190_000_000, counter=77)  # fmt: skip
    wrap, transfer, sync, ix = built.instructions  # SOL collateral is wrapped first
    assert wrap.program_id == rq.ASSOCIATED_TOKEN_PROGRAM and sync.program_id == rq.TOKEN_PROGRAM
    assert ix.program_id == PROGRAM
    name, params = _decoded(ix)
    assert name == "create_increase_position_market_request"
    assert params["size_usd_delta"] == 1_500_000_000 and params["collateral_token_delta"] == 2_000_000_000
    assert params["price_slippage"] == 190_000_000 and params["counter"] == 77
    assert params["jupiter_minimum_out"] is None and params["side"] == "Long"
    accounts = [a["name"] for a in IDL["createIncreasePositionMarketRequest"]["accounts"]]
    assert len(ix.accounts) == len(accounts)
    by_name = dict(zip(accounts, ix.accounts))
    assert by_name["owner"].pubkey == owner and by_name["owner"].is_signer and by_name["owner"].is_writable
    assert by_name["position"].pubkey == built.position == rq.position_pda(owner, _market("long"))
    assert by_name["positionRequest"].pubkey == built.request == rq.request_pda(built.position, 77, "increase", PROGRAM)
    assert by_name["inputMint"].pubkey == rq.NATIVE_MINT
    for meta, spec in zip(ix.accounts, IDL["createIncreasePositionMarketRequest"]["accounts"]):
        assert (meta.is_signer, meta.is_writable) == (bool(spec["isSigner"]), bool(spec["isMut"])), spec["name"]


def test_a_short_pays_usdc_and_needs_no_wrapping():
    built = rq.RequestBuilder(Pubkey.new_unique()).open(_market("short"), size_usd=10**9, collateral_tokens=10**8,
                                                        price_slippage=150_000_000, counter=1)  # fmt: skip
    (ix,) = built.instructions
    assert _decoded(ix)[1]["side"] == "Short"
    accounts = dict(zip([a["name"] for a in IDL["createIncreasePositionMarketRequest"]["accounts"]], ix.accounts))
    assert accounts["inputMint"].pubkey == USDC and accounts["collateralCustody"].pubkey == _usdc_custody().address


def test_close_all_reduce_and_collateral_requests_carry_their_arguments():
    b = rq.RequestBuilder(Pubkey.new_unique())
    m = _market("long")
    name, p = _decoded(b.close(m, size_usd=None, price_slippage=120_000_000, counter=5).instructions[-1])
    assert name == "create_decrease_position_market_request"
    assert p["entire_position"] is True and p["size_usd_delta"] == 0 and p["price_slippage"] == 120_000_000
    _, p = _decoded(b.close(m, size_usd=250_000_000, price_slippage=120_000_000, counter=6).instructions[-1])
    assert p["entire_position"] is None and p["size_usd_delta"] == 250_000_000
    _, p = _decoded(b.withdraw(m, collateral_usd=30_000_000, counter=7).instructions[-1])
    assert p["collateral_usd_delta"] == 30_000_000 and p["size_usd_delta"] == 0
    name, p = _decoded(b.deposit(m, collateral_tokens=5 * 10**8, counter=8).instructions[-1])
    assert name == "create_increase_position_market_request" and p["size_usd_delta"] == 0
    assert p["collateral_token_delta"] == 5 * 10**8


@pytest.mark.parametrize(("side", "kind", "above"), [
    ("long", "take_profit", True), ("long", "stop_loss", False),
    ("short", "take_profit", False), ("short", "stop_loss", True),
])  # fmt: skip
def test_take_profit_and_stop_loss_trigger_on_the_right_side_of_the_price(side, kind, above):
    m = _market(side)
    built = rq.RequestBuilder(Pubkey.new_unique()).trigger(m, kind=kind, trigger_price=160_000_000, counter=9)
    ix = built.instructions[-1]
    name, p = _decoded(ix)
    assert name == "create_decrease_position_request2"
    assert p["request_type"] == "Trigger" and p["trigger_price"] == 160_000_000
    assert p["trigger_above_threshold"] is above and p["entire_position"] is True
    accounts = dict(zip([a["name"] for a in IDL["createDecreasePositionRequest2"]["accounts"]], ix.accounts))
    assert accounts["custodyDovesPriceAccount"].pubkey == m.custody.doves_oracle
    assert accounts["custodyPythnetPriceAccount"].pubkey == m.custody.pythnet_oracle
    assert built.request == rq.request_pda(built.position, 9, "decrease", PROGRAM)


@pytest.mark.parametrize(("call", "message"), [
    (lambda b, m: b.open(m, size_usd=0, collateral_tokens=1, price_slippage=1, counter=1), "above 0 USD"),
    (lambda b, m: b.open(m, size_usd=2**64, collateral_tokens=1, price_slippage=1, counter=1), r"to 2\^64-1"),
    (lambda b, m: b.withdraw(m, collateral_usd=-1, counter=1), "above 0"),
    (lambda b, m: b.trigger(m, kind="stop_loss", trigger_price=0, counter=1), "above 0"),
])  # fmt: skip
def test_an_impossible_request_is_refused_with_what_to_change(call, message):
    with pytest.raises(rq.RequestError, match=message):
        call(rq.RequestBuilder(Pubkey.new_unique()), _market("long"))


def test_a_signed_request_passes_the_svm_signature_check_and_a_tampered_one_does_not():
    owner = Keypair()
    svm = LiteSVM()
    svm.airdrop(owner.pubkey(), 10**10)
    built = rq.RequestBuilder(owner.pubkey()).open(_market("short"), size_usd=10**9, collateral_tokens=10**8,
                                                   price_slippage=150_000_000, counter=3)  # fmt: skip
    msg = MessageV0.try_compile(owner.pubkey(), built.instructions, [], svm.latest_blockhash())
    tx = VersionedTransaction(msg, [owner])
    assert tx.verify_with_results() == [True]
    result = svm.send_transaction(tx)
    # The Jupiter program is not loaded here: the SVM accepts the signature and
    # stops at the missing program, never at signature verification.
    assert "InvalidProgramForExecution" in str(result.err())

    raw = bytearray(bytes(tx))
    at = raw.index(bytes(built.instructions[-1].data))
    raw[at + 8] ^= 0x01  # one bit of the request's size changed after signing
    tampered = VersionedTransaction.from_bytes(bytes(raw))
    assert tampered.verify_with_results() == [False]
    assert "SignatureFailure" in str(svm.send_transaction(tampered).err())


def test_a_foreign_blockhash_is_refused_by_the_svm():
    owner = Keypair()
    svm = LiteSVM()
    svm.airdrop(owner.pubkey(), 10**10)
    built = rq.RequestBuilder(owner.pubkey()).withdraw(_market("long"), collateral_usd=10**6, counter=4)
    msg = MessageV0.try_compile(owner.pubkey(), built.instructions, [], Hash.new_unique())
    result = svm.send_transaction(VersionedTransaction(msg, [owner]))
    assert "BlockhashNotFound" in str(result.err())


def test_cancel_and_trigger_update_decode_with_the_idl_and_pass_the_svm_signature_check():
    owner = Keypair()
    b = rq.RequestBuilder(owner.pubkey())
    m = _market("long")
    request = rq.request_pda(rq.position_pda(owner.pubkey(), m), 9, "decrease", PROGRAM)
    cancel = b.cancel(m, request, m.collateral.mint)
    assert CODER.parse(bytes(cancel.data)).name == "close_position_request"
    names = [a["name"] for a in IDL["closePositionRequest"]["accounts"]]
    by_name = dict(zip(names, cancel.accounts))
    # the keeper is absent (the program id, neither signer nor writable): the owner closes it as the fee payer
    assert by_name["keeper"].pubkey == PROGRAM and not by_name["keeper"].is_signer and not by_name["keeper"].is_writable
    assert by_name["positionRequest"].pubkey == request and by_name["positionRequest"].is_writable
    assert by_name["ownerAta"].pubkey == rq.associated_token_account(owner.pubkey(), rq.NATIVE_MINT)
    update = b.update_trigger(m, request, trigger_price=150_000_000, size_usd=0)
    name, params = _decoded(update)
    assert name == "update_decrease_position_request2"
    assert (params["trigger_price"], params["size_usd_delta"]) == (150_000_000, 0)
    svm = LiteSVM()
    svm.airdrop(owner.pubkey(), 10**10)
    for ix in (cancel, update):
        tx = VersionedTransaction(MessageV0.try_compile(owner.pubkey(), [ix], [], svm.latest_blockhash()), [owner])
        assert tx.verify_with_results() == [True]
        assert "InvalidProgramForExecution" in str(svm.send_transaction(tx).err())  # past the signature check
