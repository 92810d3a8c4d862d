"""Drift orders: real driftpy instructions in a signed v0 transaction that
verifies, the program allowlist and durable-nonce refusal, and the whole
place/modify/cancel path against a local JSON-RPC server."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import base58
import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from support.drift_chain import LINES, USER_LINE, drift_ix, pk, raw
from support.drift_servers import BookSource, HttpServer
from support.signer import MemorySigner
from quantdesk.core.model import OrderIntent
from quantdesk.signing.keypair import KeypairSigner
from quantdesk.venues.base import TradingUnavailable
from quantdesk.venues.drift import transaction as txn
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID, DriftDeployment, default_deployment
from quantdesk.venues.drift.execution import DriftExecutor
from quantdesk.venues.drift.orders import OrderRejected
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.rpc_link import rpc_for
from quantdesk.venues.drift.venue import DriftVenue

BLOCKHASH = "EkSnNWid2cvwEVnVx9aBqawnmiCNiDgp3gUdkDPTKN1N"
SOL = "SOL-PERP"


def sol_perp_bytes() -> bytes:
    return next(raw(n) for n, x in enumerate(LINES) if x["account"] == "PerpMarket" and raw(n)[1000:1008] == b"SOL-PERP")


def offline_executor(signer=None, **kw) -> DriftExecutor:
    ex = DriftExecutor(default_deployment("drift"), signer or MemorySigner(), None, dry_run=True, **kw)
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            ex.add_account(raw(n))
    ex.add_account(raw(USER_LINE), address=str(ex.user_address))
    return ex


def intent(**kw) -> OrderIntent:
    base = dict(venue="drift", market=SOL, side="buy", type="limit", size=2 * 10**9, price=150 * 10**6)
    base.update(kw)
    return OrderIntent(**base)


CASES = [
    (dict(type="market", price=0), dict(order_type="Market", price=0, trigger_price=None)),
    (dict(type="limit"), dict(order_type="Limit", price=150_000_000, post_only="None", bit_flags=0)),
    (dict(type="limit", post_only=True), dict(order_type="Limit", post_only="MustPostOnly")),
    (dict(type="limit", ioc=True), dict(order_type="Limit", bit_flags=1)),
    (dict(type="limit", reduce_only=True, side="sell"), dict(reduce_only=True, direction="Short")),
    (dict(type="stop_market", side="sell", price=0, trigger_price=140 * 10**6),
     dict(order_type="TriggerMarket", trigger_price=140_000_000, trigger_condition="Below", direction="Short")),
    (dict(type="stop_limit", side="buy", trigger_price=160 * 10**6, price=161 * 10**6),
     dict(order_type="TriggerLimit", trigger_price=160_000_000, trigger_condition="Above", price=161_000_000)),
    (dict(type="take_profit_market", side="sell", price=0, trigger_price=170 * 10**6),
     dict(order_type="TriggerMarket", trigger_condition="Above")),
    (dict(type="take_profit_limit", side="buy", trigger_price=130 * 10**6, price=129 * 10**6),
     dict(order_type="TriggerLimit", trigger_condition="Below", direction="Long")),
]


@pytest.mark.parametrize("over, expect", CASES, ids=[c[0]["type"] + str(i) for i, c in enumerate(CASES)])
async def test_place_builds_signed_verifiable_place_perp_order(over, expect):
    signer = MemorySigner()
    ex = offline_executor(signer)
    order = await ex.place(intent(**over), "q1", blockhash=BLOCKHASH)
    assert order.status == "pending" and "dry run" in order.reason
    preview = ex.last_preview
    tx = VersionedTransaction.from_bytes(bytes(ex.signed_transaction(ex.place_instructions(intent(**over), 1), BLOCKHASH)))
    tx.verify_and_hash_message()  # raises if any signature is wrong
    assert preview["fee_payer"] == str(signer.pubkey) and preview["recent_blockhash"] == BLOCKHASH
    assert preview["uses_durable_nonce"] is False
    assert {i["program"] for i in preview["instructions"]} == {"ComputeBudget", "drift"}
    ix = drift_ix(preview)
    assert ix["instruction"] == "place_perp_order"
    params = ix["args"]["params"]
    assert params["market_index"] == 0 and params["base_asset_amount"] == 2 * 10**9
    assert params["market_type"] == "Perp"
    assert params["direction"] == expect.get("direction", "Long" if over.get("side", "buy") == "buy" else "Short")
    for key, value in expect.items():
        assert params[key] == value, key


async def test_place_accounts_are_the_traders_pdas_and_the_markets_from_chain():
    from driftpy.addresses import get_state_public_key, get_user_account_public_key

    signer = MemorySigner()
    ex = offline_executor(signer)
    await ex.place(intent(), "q1", blockhash=BLOCKHASH)
    accounts = drift_ix(ex.last_preview)["accounts"]
    program = Pubkey.from_string(DRIFT_PROGRAM_ID)
    # placePerpOrder's IDL accounts: state, user, authority; then the remaining accounts
    assert [a["pubkey"] for a in accounts[:3]] == [
        str(get_state_public_key(program)),
        str(get_user_account_public_key(program, signer.pubkey, 0)),
        str(signer.pubkey),
    ]
    assert accounts[2]["signer"] is True and accounts[1]["writable"] is True
    remaining = {a["pubkey"] for a in accounts[3:]}
    sol = sol_perp_bytes()
    assert pk(sol, 8) in remaining  # the SOL-PERP market account (pubkey field at byte 8)
    assert pk(sol, 40) in remaining  # its oracle (amm.oracle at byte 40)
    # the user's other position (1MBONK-PERP, market 4) is referenced too, so margin can be checked
    bonk = next(raw(n) for n, x in enumerate(LINES) if x["account"] == "PerpMarket" and raw(n)[1000:1006] == b"1MBONK")
    assert pk(bonk, 8) in remaining


async def test_a_tampered_transaction_does_not_verify():
    ex = offline_executor()
    tx = ex.signed_transaction(ex.place_instructions(intent(), 1), BLOCKHASH)
    data = bytearray(bytes(tx))
    data[-10] ^= 0x01  # flip a bit inside the instruction data
    with pytest.raises(Exception):
        VersionedTransaction.from_bytes(bytes(data)).verify_and_hash_message()


async def test_keypair_file_signer_signs_orders(tmp_path):
    kp = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(kp))))
    path.chmod(0o600)  # a key file only its owner can read
    path.chmod(0o600)
    ex = offline_executor(KeypairSigner.from_file(path))
    tx = ex.signed_transaction(ex.place_instructions(intent(), 1), BLOCKHASH)
    VersionedTransaction.from_bytes(bytes(tx)).verify_and_hash_message()
    assert tx.message.account_keys[0] == kp.pubkey()


async def test_cancel_cancel_all_and_modify_instructions():
    ex = offline_executor()
    tx = ex.signed_transaction(ex.cancel_instructions(7), BLOCKHASH)
    ix = drift_ix(ex.describe(tx))
    assert ix["instruction"] == "cancel_order_by_user_id" and ix["args"] == {"user_order_id": 7}
    ix = drift_ix(ex.describe(ex.signed_transaction(ex.cancel_all_instructions(SOL), BLOCKHASH)))
    assert ix["instruction"] == "cancel_orders"
    assert ix["args"] == {"market_type": "Perp", "market_index": 0, "direction": None}
    ix = drift_ix(ex.describe(ex.signed_transaction(ex.cancel_all_instructions(None), BLOCKHASH)))
    assert ix["args"] == {"market_type": None, "market_index": None, "direction": None}
    ix = drift_ix(ex.describe(ex.signed_transaction(ex.modify_instructions(7, price=151 * 10**6, size=None), BLOCKHASH)))
    assert ix["instruction"] == "modify_order_by_user_id" and ix["args"]["user_order_id"] == 7
    assert ix["args"]["modify_order_params"]["price"] == 151_000_000
    assert ix["args"]["modify_order_params"]["base_asset_amount"] is None


async def test_compute_budget_instructions_are_decoded():
    ex = offline_executor(priority_fee_micro_lamports=5000, compute_units=400_000)
    preview = ex.describe(ex.signed_transaction(ex.place_instructions(intent(), 1), BLOCKHASH))
    cb = [i for i in preview["instructions"] if i["program"] == "ComputeBudget"]
    assert [(i["instruction"], i["args"]) for i in cb] == [
        ("set_compute_unit_limit", {"units": 400_000}),
        ("set_compute_unit_price", {"micro_lamports": 5000}),
    ]


@pytest.mark.parametrize(
    "over, needle",
    [
        (dict(size=0), "size must be positive"),
        (dict(type="limit", price=0), "needs a price"),
        (dict(type="stop_market", price=0, trigger_price=0), "needs a trigger price"),
        (dict(type="market", price=0, post_only=True), "post-only applies to limit"),
        (dict(type="limit", post_only=True, ioc=True), "both post-only and immediate"),
        (dict(market="DOGE-PERP"), "not a market of drift"),
    ],
)
async def test_invalid_intents_are_rejected_before_signing(over, needle):
    ex = offline_executor()
    with pytest.raises(OrderRejected, match=needle):
        await ex.place(intent(**over), "q1", blockhash=BLOCKHASH)
    assert ex.last_preview is None


def test_programs_off_the_allowlist_are_refused():
    signer = MemorySigner()
    ex = offline_executor(signer)
    stray = transfer(TransferParams(from_pubkey=signer.pubkey, to_pubkey=Pubkey.new_unique(), lamports=1))
    msg = txn.compose(signer.pubkey, ex.place_instructions(intent(), 1) + [stray], BLOCKHASH)
    with pytest.raises(txn.TransactionRefused, match="11111111111111111111111111111111.*not on the allowlist"):
        txn.check(msg, ex.allowed_programs)
    other = Instruction(Pubkey.new_unique(), b"\x00", [AccountMeta(signer.pubkey, True, True)])
    with pytest.raises(txn.TransactionRefused, match="not on the allowlist"):
        txn.check(txn.compose(signer.pubkey, [other], BLOCKHASH), ex.allowed_programs)


def test_durable_nonce_is_refused_unless_allowed():
    from solders.system_program import AdvanceNonceAccountParams, advance_nonce_account

    signer = MemorySigner()
    ex = offline_executor(signer)
    nonce = advance_nonce_account(AdvanceNonceAccountParams(nonce_pubkey=Pubkey.new_unique(), authorized_pubkey=signer.pubkey))
    msg = txn.compose(signer.pubkey, [nonce] + ex.place_instructions(intent(), 1), Hash.default())
    assert txn.uses_durable_nonce(msg)
    with pytest.raises(txn.TransactionRefused, match="durable nonce"):
        txn.check(msg, ex.allowed_programs)
    txn.check(msg, ex.allowed_programs, allow_durable_nonce=True)  # explicitly allowed: passes
    signed = txn.sign(msg, signer)
    assert VersionedTransaction.from_bytes(bytes(signed)).uses_durable_nonce()


def test_a_signer_with_the_wrong_key_is_caught():
    from quantdesk.signing.base import SignerError

    class Liar(MemorySigner):
        def sign_message(self, message: bytes) -> bytes:
            return bytes(Keypair().sign_message(message))

    liar = Liar()
    ex = offline_executor(liar)
    with pytest.raises(SignerError, match="does not verify"):
        ex.signed_transaction(ex.place_instructions(intent(), 1), BLOCKHASH)


def test_velocity_orders_are_unavailable():
    with pytest.raises(TradingUnavailable, match="Drift deployment"):
        DriftExecutor(default_deployment("velocity").model_copy(update={"idl_path": "/x.json"}), MemorySigner())


async def test_venue_without_signer_raises_trading_unavailable():
    venue = DriftVenue("drift")
    assert venue.can_trade is False
    with pytest.raises(TradingUnavailable, match="no signer"):
        await venue.place(intent(), "q1")
    with pytest.raises(TradingUnavailable):
        await venue.cancel_all()


@pytest.fixture
def rpc_server():
    http = HttpServer(BookSource())
    http.start()
    yield http
    http.stop()


async def test_place_modify_cancel_through_the_venue_against_a_local_rpc(rpc_server):
    from driftpy.addresses import get_user_account_public_key

    http = rpc_server
    signer = MemorySigner()
    d = DriftDeployment(**{**default_deployment("drift").model_dump(), "rpc_urls": [http.url], "slot_poll_s": 0})
    # the chain: the trader's User account at its PDA, markets at theirs
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    user_pda = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0)
    http.accounts[str(user_pda)] = LINES[USER_LINE]["data_b64"]
    venue = DriftVenue(d, signer=signer)  # the executor is built on the first order
    assert venue.can_trade

    order = await venue.place(intent(post_only=True), "q1")
    ex = venue.executor
    assert ex is not None and ex.user_address == user_pda
    assert order.status == "pending" and order.order_id == "q1" and order.post_only
    assert len(http.sent) == 1
    sent = VersionedTransaction.from_bytes(http.sent[0])
    sent.verify_and_hash_message()
    assert ex.signatures["q1"] == str(sent.signatures[0])
    assert str(sent.message.recent_blockhash) == BLOCKHASH
    uid = drift_ix(ex.last_preview)["args"]["params"]["user_order_id"]

    modified = await venue.modify("q1", price=149 * 10**6)
    assert modified.price == 149 * 10**6
    await venue.cancel("q1")
    await venue.cancel_all(SOL)
    assert len(http.sent) == 4
    names = []
    for rawtx in http.sent:
        tx = VersionedTransaction.from_bytes(rawtx)
        tx.verify_and_hash_message()
        names.append(drift_ix(ex.describe(tx))["instruction"])
    assert names == ["place_perp_order", "modify_order_by_user_id", "cancel_order_by_user_id", "cancel_orders"]
    assert drift_ix(ex.describe(VersionedTransaction.from_bytes(http.sent[2])))["args"]["user_order_id"] == uid
    # accounts were loaded once with getMultipleAccounts, not refetched per order
    methods = [b["method"] for m, p, b in http.requests if m == "POST"]
    assert methods.count("getMultipleAccounts") <= 2 and methods.count("sendTransaction") == 4
    await venue.close()


async def test_dry_run_venue_signs_but_sends_nothing(rpc_server):
    from driftpy.addresses import get_user_account_public_key

    http = rpc_server
    signer = MemorySigner()
    d = DriftDeployment(**{**default_deployment("drift").model_dump(), "rpc_urls": [http.url]})
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    user_pda = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0)
    http.accounts[str(user_pda)] = LINES[USER_LINE]["data_b64"]
    venue = DriftVenue(DriftDeployment(**{**d.model_dump(), "dry_run": True}), signer=signer)
    order = await venue.place(intent(ioc=True), "q9")
    assert "dry run" in order.reason and http.sent == []
    preview = venue.executor.last_preview
    assert drift_ix(preview)["args"]["params"]["bit_flags"] == 1
    assert len(preview["signatures"]) == 1 and preview["signatures"][0] != str(Signature.default())
    await venue.close()


async def test_missing_user_account_says_to_create_one(rpc_server):
    http = rpc_server
    d = DriftDeployment(**{**default_deployment("drift").model_dump(), "rpc_urls": [http.url]})
    health = FeedHealth()
    rpc = rpc_for(d, health)
    ex = DriftExecutor(d, MemorySigner(), rpc)
    with pytest.raises(TradingUnavailable, match="no Drift account"):
        await ex.place(intent(), "q1")
    assert http.sent == []
    await rpc.close()


def test_keypair_file_enables_trading_and_shows_the_traders_account(tmp_path):
    kp = Keypair()
    good = tmp_path / "id.json"
    good.write_text(json.dumps(list(bytes(kp))))
    good.chmod(0o600)  # a key file only its owner can read
    good.chmod(0o600)
    from quantdesk.config.settings import load_config
    from quantdesk.wiring.sources import live_venues

    def drift_with(signer: str):
        path = tmp_path / "config.toml"
        path.write_text(f'signer = "{signer}"\n[venues.drift]\n')
        (venue,) = live_venues(load_config(path, environ={}))
        return venue

    venue = drift_with(f"keypair:{good}")
    assert venue.can_trade and venue.signer.pubkey == kp.pubkey()
    assert venue.watch == str(kp.pubkey())  # the trader's own account is shown by default
    broken = drift_with(f"keypair:{tmp_path / 'missing.json'}")
    assert broken.can_trade is False
    assert "does not exist" in broken.trading_unavailable_reason()
    assert "no signer configured" in drift_with("none").trading_unavailable_reason()
    base = default_deployment("drift").model_dump()
    watcher = DriftVenue(DriftDeployment(**{**base, "watch": "DXHpL2cCjm3CtMSJk9js8TdigSCUNMAs4MipvNKGrmtq"}))
    assert watcher.can_trade is False and watcher.watch == "DXHpL2cCjm3CtMSJk9js8TdigSCUNMAs4MipvNKGrmtq"


async def test_preview_before_signing_then_submit(rpc_server):
    from driftpy.addresses import get_user_account_public_key

    http = rpc_server
    signed_payloads: list[bytes] = []

    class CountingSigner(MemorySigner):
        def sign_message(self, message: bytes) -> bytes:
            signed_payloads.append(message)
            return super().sign_message(message)

    signer = CountingSigner()
    d = DriftDeployment(**{**default_deployment("drift").model_dump(), "rpc_urls": [http.url]})
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    user_pda = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0)
    http.accounts[str(user_pda)] = LINES[USER_LINE]["data_b64"]
    health = FeedHealth()
    rpc = rpc_for(d, health)
    ex = DriftExecutor(d, signer, rpc)

    prepared = await ex.prepare_place(intent(type="stop_market", side="sell", price=0, trigger_price=120 * 10**6), "q5")
    assert signed_payloads == [] and http.sent == []  # a preview signs and sends nothing
    assert prepared.preview["signatures"] == [] and prepared.preview["recent_blockhash"] == BLOCKHASH
    params = drift_ix(prepared.preview)["args"]["params"]
    assert params["order_type"] == "TriggerMarket" and params["trigger_condition"] == "Below"

    order = await ex.submit_order(prepared)
    assert order.order_id == "q5" and len(signed_payloads) == 1 and len(http.sent) == 1
    sent = VersionedTransaction.from_bytes(http.sent[0])
    sent.verify_and_hash_message()
    assert bytes(sent.message) == bytes(prepared.message)  # exactly what was previewed
    await rpc.close()
