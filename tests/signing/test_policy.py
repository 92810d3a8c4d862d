"""The transaction policy: every instruction decoded (the venue's IDL through the
registry), and refusals for a program off the allowlist, a durable nonce and a
fee payer that is not the signer."""

from __future__ import annotations

from decimal import Decimal

import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.message import to_bytes_versioned
from solders.pubkey import Pubkey
from solders.system_program import AdvanceNonceAccountParams, TransferParams, advance_nonce_account, transfer

from quantdesk.signing import policy
from quantdesk.signing.policy import PolicyRefused, TransactionPolicy, UndecodableTransaction
from quantdesk.venues import registry
from quantdesk.venues.drift import transaction as txn
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from support.drift_tx import order_message
from support.signer import MemorySigner

DRIFT_ONLY = TransactionPolicy.of({DRIFT_PROGRAM_ID})


@pytest.fixture(scope="module")
def decoders():
    return registry.instruction_decoders()


def test_a_drift_order_decodes_to_what_it_trades(decoders):
    signer = MemorySigner()
    view = policy.decode(to_bytes_versioned(order_message(signer, side="sell", size=3 * 10**9, price=151_250_000)), decoders)
    assert view.fee_payer == str(signer.pubkey) and view.version == "v0"
    assert [ix.name for ix in view.instructions] == ["set_compute_unit_limit", "set_compute_unit_price", "place_perp_order"]
    assert view.programs == (policy.COMPUTE_BUDGET_PROGRAM_ID, DRIFT_PROGRAM_ID)
    assert view.compute_unit_limit == 600_000 and view.compute_unit_price == 5_000
    assert view.priority_fee_lamports == 3_000  # 600,000 units x 5,000 micro-lamports
    place = view.instructions[2]
    assert place.program == "drift" and place.args["params"]["market_index"] == 0
    assert [a.name for a in place.accounts[:3]] == ["state", "user", "authority"]
    assert place.accounts[2].pubkey == str(signer.pubkey) and place.accounts[2].signer
    (order,) = view.orders
    assert (order.venue, order.market, order.side, order.size, order.price) == (
        "drift", "SOL-PERP", "sell", Decimal(3), Decimal("151.25"))
    assert order.notional == Decimal("453.75")
    assert policy.refusals(view, DRIFT_ONLY, str(signer.pubkey)) == []
    text = "\n".join(policy.render(view, "preview"))
    assert "drift SOL-PERP sell 3 @ 151.25 limit" in text
    assert "priority fee up to 0.000003 SOL" in text and "durable nonce  no" in text


def test_a_program_off_the_allowlist_is_refused_and_named(decoders):
    signer = MemorySigner()
    stranger = Pubkey.new_unique()
    sneak = Instruction(stranger, b"\x01\x02", [AccountMeta(signer.pubkey, True, True)])
    view = policy.decode(order_message(signer, extra=[sneak]), decoders)
    assert view.instructions[-1].name == "unknown" and view.instructions[-1].program == "unknown"
    with pytest.raises(PolicyRefused) as err:
        policy.check(view, DRIFT_ONLY, str(signer.pubkey))
    assert f"instruction 4 calls program {stranger}" in str(err.value) and "allowlist" in str(err.value)
    # a transfer of the trader's SOL is just as foreign to an order
    drain = transfer(TransferParams(from_pubkey=signer.pubkey, to_pubkey=Pubkey.new_unique(), lamports=10**9))
    view = policy.decode(order_message(signer, extra=[drain]), decoders)
    assert view.instructions[-1].name == "transfer" and view.instructions[-1].args == {"lamports": 10**9}
    assert "11111111111111111111111111111111 (System), which is not on the allowlist" in policy.refusals(
        view, DRIFT_ONLY, str(signer.pubkey))[0]
    # once the config allows the program, the same transaction passes
    assert policy.refusals(view, TransactionPolicy.of({DRIFT_PROGRAM_ID, policy.SYSTEM_PROGRAM_ID}), str(signer.pubkey)) == []


def test_a_durable_nonce_is_refused_unless_the_config_allows_it(decoders):
    signer = MemorySigner()
    nonce = advance_nonce_account(AdvanceNonceAccountParams(nonce_pubkey=Pubkey.new_unique(), authorized_pubkey=signer.pubkey))
    order = order_message(signer)
    ixs = [nonce, *(Instruction(order.account_keys[i.program_id_index], bytes(i.data),
                                [AccountMeta(order.account_keys[a], order.is_signer(a), order.is_maybe_writable(a))
                                 for a in bytes(i.accounts)]) for i in order.instructions)]
    view = policy.decode(txn.compose(signer.pubkey, ixs, Hash.default()), decoders)
    assert view.durable_nonce and view.instructions[0].name == "advance_nonce_account"
    reasons = policy.refusals(view, DRIFT_ONLY, str(signer.pubkey))
    assert len(reasons) == 1 and "durable nonce" in reasons[0] and "allow durable nonces" in reasons[0]
    allowed = TransactionPolicy.of({DRIFT_PROGRAM_ID}, allow_durable_nonce=True)
    assert policy.refusals(view, allowed, str(signer.pubkey)) == []
    assert "  durable nonce  YES" in policy.render(view, "t")


def test_a_fee_payer_that_is_not_the_signer_is_refused(decoders):
    trader, stranger = MemorySigner(), MemorySigner()
    view = policy.decode(order_message(stranger), decoders)
    with pytest.raises(PolicyRefused, match=f"the fee payer {stranger.pubkey} is not the signer {trader.pubkey}"):
        policy.check(view, DRIFT_ONLY, str(trader.pubkey))
    # the Drift executor applies the same policy before its signer is asked
    from support.drift_tx import offline_executor, order_intent

    ex = offline_executor(trader)
    with pytest.raises(txn.TransactionRefused, match="is not the signer"):
        txn.check(order_message(stranger), ex.allowed_programs, signer=trader.pubkey)
    ex.message(ex.place_instructions(order_intent(), 1), Hash.default())  # its own: passes


def test_without_a_decoder_instructions_still_show_program_and_accounts():
    signer = MemorySigner()
    view = policy.decode(order_message(signer))
    place = view.instructions[-1]
    assert place.name == "unknown" and place.program == "unknown" and place.program_id == DRIFT_PROGRAM_ID
    assert str(signer.pubkey) in [a.pubkey for a in place.accounts]
    assert f"data = {place.data.hex()}" in "\n".join(policy.render(view, "t"))
    assert view.orders == ()


def test_the_default_compute_limit_prices_the_priority_fee():
    signer = MemorySigner()
    from solders.compute_budget import set_compute_unit_price

    pay = transfer(TransferParams(from_pubkey=signer.pubkey, to_pubkey=Pubkey.new_unique(), lamports=1))
    view = policy.decode(txn.compose(signer.pubkey, [set_compute_unit_price(1_000_000), pay], Hash.default()))
    assert view.compute_unit_limit is None and view.effective_compute_units == 200_000
    assert view.priority_fee_lamports == 200_000


@pytest.mark.parametrize("junk", [b"", b"\x80", b"\x01\x00\x00" + b"\xff" * 10, b"not a transaction at all"])
def test_bytes_that_are_no_message_are_refused_with_a_message(junk):
    with pytest.raises(UndecodableTransaction, match="not a Solana transaction message"):
        policy.decode(junk)


def test_programs_the_venue_config_allows_pass_the_venues_check():
    from pydantic import ValidationError

    from quantdesk.venues.drift.config import default_deployment
    from support.drift_tx import offline_executor, order_intent

    signer = MemorySigner()
    memo = Pubkey.from_string("MemoSq4gqABAXKb96qnH8TysNcWxMyWCqXgDLGmfcHr")
    note = Instruction(memo, b"quantdesk", [AccountMeta(signer.pubkey, True, False)])
    ixs = offline_executor(signer).place_instructions(order_intent(), 1) + [note]
    with pytest.raises(txn.TransactionRefused, match=f"calls program {memo}"):
        offline_executor(signer).message(ixs, Hash.default())
    section = default_deployment("drift").model_copy(update={"allowed_programs": [str(memo)]})
    assert str(memo) in offline_executor(signer, allowed_programs=section.allowed_programs).message(
        ixs, Hash.default()).account_keys.__repr__()
    with pytest.raises(ValidationError, match="'not-a-key' is not a program id"):
        type(section).model_validate({**section.model_dump(), "allowed_programs": ["not-a-key"]})


def test_a_jupiter_position_request_decodes_to_what_it_trades(decoders):
    from support.jupiter_fixtures import POOL, SOL_CUSTODY, data
    from quantdesk.venues.jupiter import requests as rq
    from quantdesk.venues.jupiter.accounts import decoder
    from quantdesk.venues.jupiter.config import DEFAULT_COLLATERAL, PROGRAM_ID

    signer = MemorySigner()
    program = Pubkey.from_string(PROGRAM_ID)
    sol = rq.CustodyRef.from_decoded(SOL_CUSTODY, decoder().decode(data(SOL_CUSTODY)).fields)
    usdc = rq.CustodyRef(Pubkey.from_string(DEFAULT_COLLATERAL["USDC"]),
                         Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"), Pubkey.new_unique(), Pubkey.new_unique())
    builder = rq.RequestBuilder(signer.pubkey)
    short = rq.Market(program, Pubkey.from_string(POOL), sol, usdc, "short")
    opened = builder.open(short, size_usd=250_000_000, collateral_tokens=50_000_000, price_slippage=140_000_000, counter=7)
    view = policy.decode(txn.compose(signer.pubkey, opened.instructions, Hash.default()), decoders)
    request = view.instructions[-1]
    assert request.program == "jupiter" and request.name == "create_increase_position_market_request"
    assert request.args["params"]["side"] == "Short" and request.args["params"]["counter"] == 7
    assert [a.name for a in request.accounts[:2]] == ["owner", "funding_account"]
    (order,) = view.orders
    assert order.line() == "jupiter SOL-PERP sell 250 USD market (worst price 140)"
    assert order.notional == Decimal(250)
    long = rq.Market(program, Pubkey.from_string(POOL), sol, sol, "long")
    stop = builder.trigger(long, kind="stop_loss", trigger_price=120_000_000, counter=8)
    (order,) = policy.decode(txn.compose(signer.pubkey, stop.instructions, Hash.default()), decoders).orders
    assert order.line() == "jupiter SOL-PERP close the whole position @ 120 trigger reduce-only"
    # a long paid in SOL wraps the signer's own SOL first: named, and allowed (the lamports stay theirs)
    wrapped = builder.open(long, size_usd=10**8, collateral_tokens=10**9, price_slippage=160_000_000, counter=9)
    view = policy.decode(txn.compose(signer.pubkey, wrapped.instructions, Hash.default()), decoders)
    assert [(ix.program, ix.name) for ix in view.instructions[:3]] == [
        ("AssociatedToken", "create_idempotent"), ("System", "transfer"), ("Token", "sync_native")]
    assert policy.refusals(view, TransactionPolicy.of({PROGRAM_ID}), str(signer.pubkey)) == []
    assert view.orders[0].line() == "jupiter SOL-PERP buy 100 USD market (worst price 160)"
    # the same steps into another wallet's wrapped SOL move the signer's SOL away: refused until allowed
    other = rq.RequestBuilder(Pubkey.new_unique())
    theirs = [other.open(long, size_usd=10**8, collateral_tokens=10**9, price_slippage=160_000_000, counter=10)
              .instructions[k] for k in (0, 2)]
    away = transfer(TransferParams(from_pubkey=signer.pubkey, to_pubkey=theirs[1].accounts[0].pubkey, lamports=10**9))
    view = policy.decode(txn.compose(signer.pubkey, [away, *theirs], Hash.default()), decoders)
    reasons = policy.refusals(view, TransactionPolicy.of({PROGRAM_ID}), str(signer.pubkey))
    assert [r.split(" (")[0] for r in reasons] == [
        f"instruction {n} calls program {p}" for n, p in
        ((1, policy.SYSTEM_PROGRAM_ID), (2, policy.ASSOCIATED_TOKEN_PROGRAM_ID), (3, policy.TOKEN_PROGRAM_ID))]
