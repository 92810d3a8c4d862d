"""Wrapping the signer's own SOL without an allowlist entry, attacked as a
hostile server would: every System, Token and associated-token instruction
that could move the signer's lamports or tokens anywhere but their own
wrapped-SOL account (or wrap more than their order pays) is refused, and the
transaction with it. What the policy lets through runs in solders.litesvm."""

from __future__ import annotations

import struct

import pytest
from solders.account import Account
from solders.address_lookup_table_account import AddressLookupTableAccount
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.system_program import (
    AdvanceNonceAccountParams,
    AllocateParams,
    AllocateWithSeedParams,
    AssignParams,
    AssignWithSeedParams,
    CreateAccountParams,
    CreateAccountWithSeedParams,
    TransferParams,
    TransferWithSeedParams,
    advance_nonce_account,
    allocate,
    allocate_with_seed,
    assign,
    assign_with_seed,
    create_account,
    create_account_with_seed,
    transfer,
    transfer_with_seed,
)
from solders.transaction import VersionedTransaction
from solders.transaction_metadata import TransactionMetadata

from quantdesk.signing import policy
from quantdesk.signing.agent import AgentSigner
from quantdesk.signing.agent_server import AgentServer
from quantdesk.signing.base import SignerError
from quantdesk.signing.policy import PolicyRefused, TransactionPolicy
from quantdesk.venues import registry
from quantdesk.venues.jupiter import requests as rq
from quantdesk.venues.jupiter.accounts import decoder
from quantdesk.venues.jupiter.config import PROGRAM_ID
from support.jupiter_fixtures import POOL, SOL_CUSTODY, data
from support.signer_agent import AgentThread, Scripted

RULES = TransactionPolicy.of({PROGRAM_ID})  # what an agent with the Jupiter decoder allows
SOL = 10**9
COLLATERAL = 2 * SOL
TOKEN_2022 = Pubkey.from_string("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb")
USDC = Pubkey.from_string("EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v")
SYSTEM = Pubkey.from_string(policy.SYSTEM_PROGRAM_ID)
ALLOWLIST = "which is not on the allowlist"
TOO_MUCH = "more than its orders pay from it"


@pytest.fixture(scope="module")
def decoders():
    return registry.instruction_decoders()


@pytest.fixture
def me() -> Keypair:
    return Keypair()


@pytest.fixture(scope="module")
def long() -> rq.Market:
    sol = rq.CustodyRef.from_decoded(SOL_CUSTODY, decoder().decode(data(SOL_CUSTODY)).fields)
    return rq.Market(Pubkey.from_string(PROGRAM_ID), Pubkey.from_string(POOL), sol, sol, "long")


def wsol(owner: Pubkey, token_program: Pubkey = rq.TOKEN_PROGRAM) -> Pubkey:
    seeds = [bytes(owner), bytes(token_program), bytes(rq.NATIVE_MINT)]
    return Pubkey.find_program_address(seeds, rq.ASSOCIATED_TOKEN_PROGRAM)[0]


def sol_long(owner: Pubkey, m: rq.Market, collateral: int = COLLATERAL) -> list[Instruction]:
    """What the venue builds for a SOL long: create wSOL account, transfer, sync, the Jupiter request."""
    return rq.RequestBuilder(owner).open(m, size_usd=10**8, collateral_tokens=collateral,
                                         price_slippage=160_000_000, counter=1).instructions


def the_order(owner: Pubkey, m: rq.Market, collateral: int = COLLATERAL) -> Instruction:
    return sol_long(owner, m, collateral)[-1]


def view_of(payer: Pubkey, ixs: list[Instruction], decoders, lookups=()) -> policy.TransactionView:
    message = MessageV0.try_compile(payer, ixs, list(lookups), Hash.default())
    return policy.decode(to_bytes_versioned(message), decoders)


def refusals(me: Keypair, ixs: list[Instruction], decoders, lookups=()) -> list[str]:
    return policy.refusals(view_of(me.pubkey(), ixs, decoders, lookups), RULES, str(me.pubkey()))


def token_ix(data: bytes, *metas: tuple[Pubkey, bool, bool], program: Pubkey = rq.TOKEN_PROGRAM) -> Instruction:
    return Instruction(program, data, [AccountMeta(k, s, w) for k, s, w in metas])


def ata_ix(payer: Pubkey, owner: Pubkey, mint: Pubkey, token_program: Pubkey, data: bytes = b"\x01",
           ata: Pubkey | None = None) -> Instruction:
    seeds = [bytes(owner), bytes(token_program), bytes(mint)]
    address = ata or Pubkey.find_program_address(seeds, rq.ASSOCIATED_TOKEN_PROGRAM)[0]
    metas = [AccountMeta(payer, True, True), AccountMeta(address, False, True), AccountMeta(owner, False, False),
             AccountMeta(mint, False, False), AccountMeta(SYSTEM, False, False), AccountMeta(token_program, False, False)]
    return Instruction(rq.ASSOCIATED_TOKEN_PROGRAM, data, metas)


def svm_with_native_mint(owner: Pubkey) -> LiteSVM:
    svm = LiteSVM()
    svm.airdrop(owner, 10 * SOL)
    mint = struct.pack("<I", 0) + bytes(32) + struct.pack("<QBB", 0, 9, 1) + struct.pack("<I", 0) + bytes(32)
    svm.set_account(rq.NATIVE_MINT, Account(SOL, mint, rq.TOKEN_PROGRAM, False, 0))
    return svm


# -- what is allowed, and where it lands ------------------------------------------------------


def test_a_sol_long_wraps_exactly_its_collateral_into_the_signers_own_account(me, long, decoders):
    ixs = sol_long(me.pubkey(), long)
    view = view_of(me.pubkey(), ixs, decoders)
    assert policy.refusals(view, RULES, str(me.pubkey())) == []
    assert view.instructions[-1].spends == {str(wsol(me.pubkey())): COLLATERAL}
    text = "\n".join(policy.render(view, "Sign request"))
    assert "System (11111111111111111111111111111111): transfer" in text and f"lamports = {COLLATERAL}" in text
    # the wrap steps run on the real token programs: the lamports become the signer's wrapped SOL
    svm = svm_with_native_mint(me.pubkey())
    message = MessageV0.try_compile(me.pubkey(), ixs[:3], [], svm.latest_blockhash())
    assert isinstance(svm.send_transaction(VersionedTransaction(message, [me])), TransactionMetadata)
    account = svm.get_account(wsol(me.pubkey()))
    assert account.owner == rq.TOKEN_PROGRAM
    raw = bytes(account.data)
    assert (raw[:32], raw[32:64]) == (bytes(rq.NATIVE_MINT), bytes(me.pubkey()))  # mint, token owner: the signer
    assert struct.unpack("<Q", raw[64:72]) == (COLLATERAL,)  # synced: the order can pay from it


def test_a_deposit_of_sol_collateral_wraps_what_it_deposits(me, long, decoders):
    built = rq.RequestBuilder(me.pubkey()).deposit(long, collateral_tokens=COLLATERAL, counter=2)
    assert refusals(me, built.instructions, decoders) == []


def test_closing_a_sol_long_creates_the_signers_own_account_to_receive_in(me, long, decoders):
    built = rq.RequestBuilder(me.pubkey()).close(long, size_usd=None, price_slippage=100_000_000, counter=3)
    assert refusals(me, built.instructions, decoders) == []


# -- System instructions ---------------------------------------------------------------------


def _system_attacks(me: Pubkey) -> dict[str, Instruction]:
    thief, mine = Pubkey.new_unique(), wsol(me)
    seeded = Pubkey.create_with_seed(me, "wsol", rq.TOKEN_PROGRAM)
    plain = transfer(TransferParams(from_pubkey=me, to_pubkey=mine, lamports=COLLATERAL))
    return {
        "transfer to another wallet": transfer(TransferParams(from_pubkey=me, to_pubkey=thief, lamports=COLLATERAL)),
        "transfer to another wallet's wSOL": transfer(TransferParams(from_pubkey=me, to_pubkey=wsol(thief),
                                                                     lamports=COLLATERAL)),
        "transfer to a Token-2022 wSOL address": transfer(TransferParams(from_pubkey=me, to_pubkey=wsol(me, TOKEN_2022),
                                                                         lamports=COLLATERAL)),
        "transfer with an extra account": Instruction(SYSTEM, bytes(plain.data),
                                                      [*plain.accounts, AccountMeta(thief, False, True)]),
        "transfer with a trailing byte": Instruction(SYSTEM, bytes(plain.data) + b"\x00", plain.accounts),
        "transfer tag without an amount": Instruction(SYSTEM, bytes(plain.data)[:4], plain.accounts),
        "transfer_with_seed": transfer_with_seed(TransferWithSeedParams(
            from_pubkey=seeded, from_base=me, from_seed="wsol", from_owner=rq.TOKEN_PROGRAM, to_pubkey=mine,
            lamports=COLLATERAL)),
        "create_account into the wSOL address": create_account(CreateAccountParams(
            from_pubkey=me, to_pubkey=mine, lamports=COLLATERAL, space=165, owner=rq.TOKEN_PROGRAM)),
        "create_account_with_seed": create_account_with_seed(CreateAccountWithSeedParams(
            from_pubkey=me, to_pubkey=seeded, base=me, seed="wsol", lamports=COLLATERAL, space=165,
            owner=rq.TOKEN_PROGRAM)),
        "assign the wallet to another program": assign(AssignParams(pubkey=me, owner=thief)),
        "assign_with_seed": assign_with_seed(AssignWithSeedParams(address=seeded, base=me, seed="wsol", owner=thief)),
        "allocate the wallet": allocate(AllocateParams(pubkey=me, space=165)),
        "allocate_with_seed": allocate_with_seed(AllocateWithSeedParams(
            address=seeded, base=me, seed="wsol", space=165, owner=thief)),
    }


@pytest.mark.parametrize("attack", list(_system_attacks(Pubkey.new_unique())))
def test_a_system_instruction_other_than_a_plain_transfer_into_the_signers_wsol_is_refused(attack, me, long, decoders):
    ix = _system_attacks(me.pubkey())[attack]
    reasons = refusals(me, [ix, the_order(me.pubkey(), long)], decoders)
    assert reasons and reasons[0].startswith(f"instruction 1 calls program {policy.SYSTEM_PROGRAM_ID} (System)")
    assert ALLOWLIST in reasons[0]


def test_a_transfer_with_trailing_bytes_moves_lamports_on_chain_so_it_is_refused(me, long, decoders):
    # the System program ignores bytes past the amount: the transfer runs, but the preview could not show it
    hidden = 7 * SOL
    disguised = Instruction(SYSTEM, struct.pack("<IQ", 2, hidden) + b"\x00",
                            [AccountMeta(me.pubkey(), True, True), AccountMeta(wsol(me.pubkey()), False, True)])
    svm = svm_with_native_mint(me.pubkey())
    message = MessageV0.try_compile(me.pubkey(), [disguised], [], svm.latest_blockhash())
    assert isinstance(svm.send_transaction(VersionedTransaction(message, [me])), TransactionMetadata)
    assert svm.get_balance(wsol(me.pubkey())) == hidden
    view = view_of(me.pubkey(), [disguised, the_order(me.pubkey(), long, hidden)], decoders)
    assert view.instructions[0].name == "transfer" and view.instructions[0].args == {}  # no amount to show
    assert ALLOWLIST in policy.refusals(view, RULES, str(me.pubkey()))[0]


# -- Token instructions ----------------------------------------------------------------------


def _token_attacks(me: Pubkey) -> dict[str, Instruction]:
    thief, mine = Pubkey.new_unique(), wsol(me)
    theirs = wsol(thief)
    return {
        "transfer out": token_ix(b"\x03" + struct.pack("<Q", COLLATERAL), (mine, False, True), (theirs, False, True),
                                 (me, True, False)),
        "transfer_checked out": token_ix(b"\x0c" + struct.pack("<QB", COLLATERAL, 9), (mine, False, True),
                                         (rq.NATIVE_MINT, False, False), (theirs, False, True), (me, True, False)),
        "approve a delegate": token_ix(b"\x04" + struct.pack("<Q", COLLATERAL), (mine, False, True),
                                       (thief, False, False), (me, True, False)),
        "set_authority of the owner": token_ix(b"\x06\x02\x01" + bytes(thief), (mine, False, True), (me, True, False)),
        "close_account to another wallet": token_ix(b"\x09", (mine, False, True), (thief, False, True),
                                                    (me, True, False)),
        "initialize_account3 with another owner": token_ix(b"\x12" + bytes(thief), (mine, False, True),
                                                           (rq.NATIVE_MINT, False, False)),
        "sync_native with a suffix": token_ix(b"\x11\x00", (mine, False, True)),
        "sync_native with an extra account": token_ix(b"\x11", (mine, False, True), (thief, False, True)),
        "sync_native of another wallet's wSOL": token_ix(b"\x11", (theirs, False, True)),
        "sync_native by Token-2022": token_ix(b"\x11", (wsol(me, TOKEN_2022), False, True), program=TOKEN_2022),
    }


@pytest.mark.parametrize("attack", list(_token_attacks(Pubkey.new_unique())))
def test_a_token_instruction_other_than_syncing_the_signers_wsol_is_refused(attack, me, long, decoders):
    *wrap, order = sol_long(me.pubkey(), long)
    ix = _token_attacks(me.pubkey())[attack]
    reasons = refusals(me, [*wrap, ix, order], decoders)
    assert len(reasons) == 1 and reasons[0].startswith(f"instruction 4 calls program {ix.program_id}")
    assert ALLOWLIST in reasons[0]


# -- associated-token instructions -----------------------------------------------------------


def _ata_attacks(me: Pubkey) -> dict[str, Instruction]:
    thief = Pubkey.new_unique()
    return {
        "create for another owner": ata_ix(me, thief, rq.NATIVE_MINT, rq.TOKEN_PROGRAM),
        "create for another mint": ata_ix(me, me, USDC, rq.TOKEN_PROGRAM),
        "create under Token-2022": ata_ix(me, me, rq.NATIVE_MINT, TOKEN_2022),
        "create naming Token-2022 at the legacy address": ata_ix(me, me, rq.NATIVE_MINT, TOKEN_2022, ata=wsol(me)),
        "create paid by the signer for the thief's wallet at the signer's address":
            ata_ix(me, thief, rq.NATIVE_MINT, rq.TOKEN_PROGRAM, ata=wsol(me)),
        "recover_nested": ata_ix(me, me, rq.NATIVE_MINT, rq.TOKEN_PROGRAM, data=b"\x02"),
        "create_idempotent with a suffix": ata_ix(me, me, rq.NATIVE_MINT, rq.TOKEN_PROGRAM, data=b"\x01\x00"),
    }


@pytest.mark.parametrize("attack", list(_ata_attacks(Pubkey.new_unique())))
def test_an_associated_token_instruction_other_than_creating_the_signers_wsol_is_refused(attack, me, long, decoders):
    ix = _ata_attacks(me.pubkey())[attack]
    reasons = refusals(me, [ix, *sol_long(me.pubkey(), long)[1:]], decoders)
    assert len(reasons) == 1 and reasons[0].startswith(f"instruction 1 calls program {rq.ASSOCIATED_TOKEN_PROGRAM}")


# -- how much is wrapped -----------------------------------------------------------------------


def test_wrapping_more_than_the_order_pays_is_refused(me, long, decoders):
    create, _, sync, order = sol_long(me.pubkey(), long)
    everything = transfer(TransferParams(from_pubkey=me.pubkey(), to_pubkey=wsol(me.pubkey()), lamports=9 * SOL))
    (reason,) = refusals(me, [create, everything, sync, order], decoders)
    assert reason == (f"the transaction wraps 9 SOL into the signer's wrapped-SOL account {wsol(me.pubkey())}, "
                      "more than its orders pay from it (2 SOL); only the SOL an order pays is wrapped without an "
                      "allowlist entry")


def test_wrapping_with_no_order_to_pay_is_refused(me, long, decoders):
    wrap = sol_long(me.pubkey(), long)[:3]
    (reason,) = refusals(me, wrap, decoders)
    assert TOO_MUCH in reason and "(0 SOL)" in reason
    # nor does an order of a program off the allowlist count, however like Jupiter's it looks
    fake = the_order(me.pubkey(), long)
    impostor = Instruction(Pubkey.new_unique(), bytes(fake.data), fake.accounts)
    reasons = refusals(me, [*wrap, impostor], decoders)
    assert ALLOWLIST in reasons[0] and reasons[0].startswith(f"instruction 4 calls program {impostor.program_id}")
    assert TOO_MUCH in reasons[1]


def test_repeated_or_reordered_transfers_count_together(me, long, decoders):
    create, pay, sync, order = sol_long(me.pubkey(), long)
    assert TOO_MUCH in refusals(me, [create, pay, sync, order, pay], decoders)[0]  # the same wrap twice
    half = transfer(TransferParams(from_pubkey=me.pubkey(), to_pubkey=wsol(me.pubkey()), lamports=COLLATERAL // 2))
    assert refusals(me, [create, half, sync, half, sync, order], decoders) == []  # split, it is still the collateral
    assert TOO_MUCH in refusals(me, [order, create, half, half, pay, sync], decoders)[0]


def test_an_order_paying_from_another_account_does_not_cover_the_wrap(me, long, decoders):
    *wrap, order = sol_long(me.pubkey(), long)
    metas = list(order.accounts)
    assert metas[1].pubkey == wsol(me.pubkey())  # the funding account
    metas[1] = AccountMeta(wsol(Pubkey.new_unique()), False, True)
    elsewhere = Instruction(order.program_id, bytes(order.data), metas)
    (reason,) = refusals(me, [*wrap, elsewhere], decoders)
    assert TOO_MUCH in reason and "(0 SOL)" in reason


# -- the message around them --------------------------------------------------------------------


def test_accounts_a_lookup_table_supplies_are_not_the_signers_own(me, long, decoders):
    *wrap, order = sol_long(me.pubkey(), long)
    table = AddressLookupTableAccount(Pubkey.new_unique(), [wsol(me.pubkey())])
    view = view_of(me.pubkey(), [*wrap, order], decoders, [table])
    assert view.instructions[1].accounts[1].pubkey.startswith(f"lookup table {table.key}")
    reasons = policy.refusals(view, RULES, str(me.pubkey()))
    assert [r.split(" (")[0] for r in reasons[:3]] == [
        f"instruction {n} calls program {p}" for n, p in
        ((1, policy.ASSOCIATED_TOKEN_PROGRAM_ID), (2, policy.SYSTEM_PROGRAM_ID), (3, policy.TOKEN_PROGRAM_ID))]
    # the order's funding account from the table neither: it cannot cover a wrap
    assert view.instructions[-1].spends == {f"lookup table {table.key} #0": COLLATERAL}


def test_a_durable_nonce_before_a_wrap_is_refused(me, long, decoders):
    nonce = advance_nonce_account(AdvanceNonceAccountParams(nonce_pubkey=Pubkey.new_unique(),
                                                            authorized_pubkey=me.pubkey()))
    (reason,) = refusals(me, [nonce, *sol_long(me.pubkey(), long)], decoders)
    assert reason.startswith("the transaction uses a durable nonce")


def test_a_wrap_the_signer_does_not_pay_for_is_refused_whole(me, long, decoders):
    payer = Pubkey.new_unique()
    view = view_of(payer, sol_long(me.pubkey(), long), decoders)
    with pytest.raises(PolicyRefused) as err:
        policy.check(view, RULES, str(me.pubkey()))
    assert f"the fee payer {payer} is not the signer {me.pubkey()}" in str(err.value)


def test_every_forbidden_part_is_named_in_one_refusal(me, long, decoders):
    *wrap, order = sol_long(me.pubkey(), long)
    attacks = _token_attacks(me.pubkey())
    ixs = [*wrap, attacks["approve a delegate"], order, attacks["close_account to another wallet"]]
    with pytest.raises(PolicyRefused) as err:
        policy.check(view_of(me.pubkey(), ixs, decoders), RULES, str(me.pubkey()))
    assert [r.split(" (")[0] for r in err.value.reasons] == [
        f"instruction {n} calls program {policy.TOKEN_PROGRAM_ID}" for n in (4, 6)]
    assert str(err.value).startswith("refused: instruction 4 calls program")


# -- at the signer agent -----------------------------------------------------------------------


@pytest.fixture
def agent(tmp_path):
    from support.signer import keypair_on_file

    kp, signer = keypair_on_file(tmp_path)
    trader = Scripted(True, True)
    thread = AgentThread(AgentServer(signer, approver=trader, decoders=registry.instruction_decoders()))
    yield kp, signer, trader, thread
    thread.stop()


def test_the_agent_shows_the_wrap_before_signing_and_refuses_an_oversized_one_unasked(agent, long):
    kp, signer, trader, thread = agent
    console = AgentSigner(thread.path)
    ixs = sol_long(kp.pubkey(), long)
    message = MessageV0.try_compile(kp.pubkey(), ixs, [], Hash.default())
    console.sign_message(to_bytes_versioned(message))
    (shown,) = trader.shown
    assert "jupiter SOL-PERP buy 100 USD market (worst price 160)" in shown
    assert f"lamports = {COLLATERAL}" in shown and str(wsol(kp.pubkey())) in shown
    create, _, sync, order = ixs
    everything = transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=wsol(kp.pubkey()), lamports=9 * SOL))
    greedy = MessageV0.try_compile(kp.pubkey(), [create, everything, sync, order], [], Hash.default())
    with pytest.raises(SignerError, match="refused by the signer agent: the transaction wraps 9 SOL"):
        console.sign_message(to_bytes_versioned(greedy))
    assert len(trader.shown) == 1 and "REFUSED" in thread.said[-1]
