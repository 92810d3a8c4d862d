"""The signer agent over a real Unix socket: the console's AgentSigner asks, the
agent decodes, shows, asks (or applies its auto-approve policy) and signs with
a key that never leaves it. Signed transactions run in solders.litesvm."""

from __future__ import annotations

import base64
import json
import stat
import threading
from concurrent.futures import ThreadPoolExecutor

import base58
import pytest
from solders.hash import Hash
from solders.instruction import AccountMeta, Instruction
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import Message, to_bytes_versioned
from solders.pubkey import Pubkey
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import Transaction, VersionedTransaction

from quantdesk.signing import agent_wire as wire
from quantdesk.signing.agent import AgentSigner
from quantdesk.signing.agent_server import AgentServer
from quantdesk.signing.auto_approve import AutoApprove, PolicyFileError
from quantdesk.signing.base import Signer, SignerError
from quantdesk.signing.keypair import KeypairSigner
from quantdesk.signing.policy import SYSTEM_PROGRAM_ID, TransactionPolicy
from quantdesk.venues import registry
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from support.drift_tx import order_message
from support.signer import keypair_on_file
from support.signer_agent import AgentThread, Scripted, connect, recv, send

POLICY = f"""
markets = ["SOL-PERP"]
max_notional_per_order = 1000
max_notional_per_hour = 1500
allowed_programs = ["{DRIFT_PROGRAM_ID}"]
"""


@pytest.fixture
def keypair_signer(tmp_path):
    return keypair_on_file(tmp_path)


@pytest.fixture
def run_agent(keypair_signer):
    started: list[AgentThread] = []

    def start(approver=None, **kw) -> AgentThread:
        kw.setdefault("decoders", registry.instruction_decoders())
        agent = AgentThread(AgentServer(keypair_signer[1], approver=approver, **kw))
        started.append(agent)
        return agent

    yield start
    for a in started:
        a.stop()


def secret_forms(kp: Keypair) -> list[str]:
    raw = bytes(kp)
    return [json.dumps(list(raw)), raw.hex(), base58.b58encode(raw).decode(), base64.b64encode(raw).decode(),
            base64.b64encode(raw[:32]).decode(), raw[:32].hex()]


def test_the_socket_is_private_and_gives_the_public_key_only(run_agent, keypair_signer):
    kp, _ = keypair_signer
    agent = run_agent()
    mode = agent.path.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    console = AgentSigner(agent.path)
    assert isinstance(console, Signer) and console.pubkey == kp.pubkey() and console.kind == "keypair"
    with connect(agent.path) as s:
        send(s, {"v": 1, "op": "pubkey"})
        text = json.dumps(recv(s))
    for form in secret_forms(kp):
        assert form not in text and form not in repr(console)


def test_an_approved_order_is_shown_decoded_then_signed(run_agent, keypair_signer):
    kp, signer = keypair_signer
    trader = Scripted(True)
    agent = run_agent(trader)
    msg = order_message(signer, side="sell", size=2 * 10**9, price=151 * 10**6)
    sig = AgentSigner(agent.path).sign_message(to_bytes_versioned(msg))
    tx = VersionedTransaction.populate(msg, [Signature.from_bytes(sig)])
    tx.verify_and_hash_message()  # raises if the signature does not verify
    (shown,) = trader.shown
    assert "drift SOL-PERP sell 2 @ 151 limit" in shown
    assert f"fee payer      {kp.pubkey()}" in shown
    assert f"drift ({DRIFT_PROGRAM_ID})" in shown and "place_perp_order" in shown
    for form in secret_forms(kp):
        assert form not in shown and form not in "\n".join(agent.said)


def test_a_declined_transaction_is_not_signed(run_agent, keypair_signer):
    _, signer = keypair_signer
    trader = Scripted(False)
    agent = run_agent(trader)
    with pytest.raises(SignerError, match="declined to sign at the signer agent"):
        AgentSigner(agent.path).sign_message(to_bytes_versioned(order_message(signer)))
    assert len(trader.shown) == 1


def test_the_agent_refuses_what_the_policy_forbids_without_asking(run_agent, keypair_signer):
    _, signer = keypair_signer
    trader = Scripted(True, True)
    agent = run_agent(trader)
    drain = transfer(TransferParams(from_pubkey=signer.pubkey, to_pubkey=Pubkey.new_unique(), lamports=10**9))
    console = AgentSigner(agent.path)
    with pytest.raises(SignerError, match=f"refused by the signer agent: instruction 4 calls program {SYSTEM_PROGRAM_ID}"):
        console.sign_message(to_bytes_versioned(order_message(signer, extra=[drain])))
    stranger = Keypair()
    foreign = order_message(KeypairSigner(stranger))  # someone else pays: not ours to sign
    with pytest.raises(SignerError, match=f"the fee payer {stranger.pubkey()} is not the signer"):
        console.sign_message(to_bytes_versioned(foreign))
    assert trader.shown == [] and "REFUSED" in agent.said[-1]


def test_signed_by_the_agent_runs_on_litesvm_and_tampering_is_rejected(run_agent, keypair_signer):
    kp, _ = keypair_signer
    agent = run_agent(Scripted(True, True), rules=TransactionPolicy.of({SYSTEM_PROGRAM_ID}))
    console = AgentSigner(agent.path)
    svm = LiteSVM()
    svm.airdrop(kp.pubkey(), 10**9)
    to = Pubkey.new_unique()
    msg = Message.new_with_blockhash(
        [transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=to, lamports=5_000_000))], kp.pubkey(), svm.latest_blockhash())
    sig = Signature.from_bytes(console.sign_message(bytes(msg)))
    tampered_msg = Message.new_with_blockhash(
        [transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=to, lamports=500_000_000))], kp.pubkey(), svm.latest_blockhash())
    bad = svm.send_transaction(Transaction.populate(tampered_msg, [sig]))  # the signature was for 0.005 SOL
    assert "SignatureFailure" in str(bad) or "signature" in str(bad).lower()
    flipped = bytearray(bytes(sig))
    flipped[0] ^= 1
    bad = svm.send_transaction(Transaction.populate(msg, [Signature.from_bytes(bytes(flipped))]))
    assert "SignatureFailure" in str(bad) or "signature" in str(bad).lower()
    assert svm.get_balance(to) in (None, 0)
    ok = svm.send_transaction(Transaction.populate(msg, [sig]))
    assert "Failed" not in type(ok).__name__, ok
    assert svm.get_balance(to) == 5_000_000


def test_malformed_frames_get_an_error_reply_and_the_connection_carries_on(run_agent):
    agent = run_agent()
    with connect(agent.path) as s:
        for body, code in [
            (b"\xff\xfe not json", "bad_request"),
            (b"[1, 2]", "bad_request"),
            ({"v": 1, "op": "steal_key"}, "bad_request"),
            ({"v": 1, "op": "sign"}, "bad_request"),
            ({"v": 1, "op": "sign", "message": "%%%"}, "bad_request"),
            ({"v": 1, "op": "sign", "message": base64.b64encode(b"garbage").decode()}, "bad_request"),
        ]:
            send(s, body)
            reply = recv(s)
            assert reply["ok"] is False and reply["error"] == code and reply["message"], body
        send(s, {"v": 1, "op": "pubkey"})
        assert recv(s)["ok"] is True  # still the same connection


def test_an_unknown_protocol_version_is_refused_with_a_reply(run_agent):
    agent = run_agent()
    with connect(agent.path) as s:
        for v in (2, 0, "1", None, True):
            send(s, {"v": v, "op": "pubkey"})
            reply = recv(s)
            assert reply["error"] == "version" and "version 1" in reply["message"]


def test_an_oversized_frame_is_refused_and_the_connection_closed(run_agent):
    agent = run_agent()
    with connect(agent.path) as s:
        s.sendall((wire.MAX_FRAME + 1).to_bytes(4, "big") + b"x" * 100)
        reply = recv(s)
        assert reply["error"] == "too_large" and f"{wire.MAX_FRAME:,}" in reply["message"]
        assert recv(s) is None
    assert AgentSigner(agent.path).pubkey  # the agent serves the next console


def test_a_connection_dropped_mid_request_leaves_the_agent_serving(run_agent, keypair_signer):
    _, signer = keypair_signer
    gate = threading.Event()
    trader = Scripted(True, True, gate=gate)
    agent = run_agent(trader)
    with connect(agent.path) as s:  # half a frame, then gone
        s.sendall((500).to_bytes(4, "big") + b'{"v": 1, "op": "si')
    with connect(agent.path) as s:  # half a header
        s.sendall(b"\x00\x00")
    s = connect(agent.path)  # a whole request, then gone while the trader is still deciding
    send(s, wire.sign_request(to_bytes_versioned(order_message(signer))))
    assert trader.asked.wait(10)
    s.close()
    gate.set()
    msg = to_bytes_versioned(order_message(signer, price=149 * 10**6))
    sig = AgentSigner(agent.path).sign_message(msg)
    assert Signature.from_bytes(sig).verify(signer.pubkey, msg)


def test_two_consoles_at_once(run_agent, keypair_signer):
    _, signer = keypair_signer
    gate = threading.Event()
    trader = Scripted(True, True, gate=gate)
    agent = run_agent(trader)
    one, two = AgentSigner(agent.path), AgentSigner(agent.path)
    msgs = [to_bytes_versioned(order_message(signer, price=p * 10**6)) for p in (150, 152)]
    with ThreadPoolExecutor(2) as pool:
        first = pool.submit(one.sign_message, msgs[0])
        assert trader.asked.wait(10)
        # while console one waits for the trader, console two is served
        assert two.pubkey == signer.pubkey
        second = pool.submit(two.sign_message, msgs[1])
        gate.set()
        sigs = [first.result(10), second.result(10)]
    for sig, msg in zip(sigs, msgs):
        assert Signature.from_bytes(sig).verify(signer.pubkey, msg)
    assert len(trader.shown) == 2 and "@ 150 limit" in trader.shown[0] and "@ 152 limit" in trader.shown[1]


def test_the_auto_approve_policy_signs_within_its_limits_and_asks_beyond(run_agent, keypair_signer):
    _, signer = keypair_signer
    now = [10**18]
    trader = Scripted(False, False, False)
    agent = run_agent(trader, auto=AutoApprove.parse(POLICY, "policy.toml"), clock=lambda: now[0])
    console = AgentSigner(agent.path)

    def order(**kw) -> bytes:
        return to_bytes_versioned(order_message(signer, **kw))

    console.sign_message(order(size=5 * 10**9, price=150 * 10**6))  # 750 notional: signed unasked
    assert trader.shown == [] and "auto-approved" in agent.said[-1]
    with pytest.raises(SignerError, match="declined"):  # 1,050 per order: over 1,000, asked, declined
        console.sign_message(order(size=7 * 10**9, price=150 * 10**6))
    assert "not auto-approved" in trader.shown[-1] and "max_notional_per_order" in trader.shown[-1]
    with pytest.raises(SignerError, match="declined"):  # 750 + 900 in the hour: over 1,500
        console.sign_message(order(size=6 * 10**9, price=150 * 10**6))
    assert "max_notional_per_hour" in trader.shown[-1]
    with pytest.raises(SignerError, match="declined"):  # a market not listed
        console.sign_message(order(market="BTC-PERP", size=10**6, price=60_000 * 10**6))
    assert "BTC-PERP is not in the policy's markets" in trader.shown[-1]
    now[0] += 3600 * 10**9  # an hour later the first order no longer counts
    console.sign_message(order(size=6 * 10**9, price=150 * 10**6))
    assert len(trader.shown) == 3


@pytest.mark.parametrize("text, needle", [
    ("markets = [", "not valid TOML"),
    (POLICY + "max_notional = 5\n", "unknown key 'max_notional'"),
    (POLICY.replace("max_notional_per_hour = 1500", ""), "max_notional_per_hour is missing"),
    (POLICY.replace("1500", '"lots"'), "is not a number"),
    (POLICY.replace("1500", "-1"), "zero or more"),
    (POLICY.replace('["SOL-PERP"]', '"SOL-PERP"'), "markets must be a list of strings"),
])
def test_a_bad_policy_file_says_what_to_fix(text, needle):
    with pytest.raises(PolicyFileError, match=needle) as err:
        AutoApprove.parse(text, "policy.toml")
    assert "policy.toml" in str(err.value)


def test_no_agent_at_the_socket_says_how_to_start_one(tmp_path):
    with pytest.raises(SignerError, match="no signer agent at .*quantdesk signer serve"):
        AgentSigner(tmp_path / "none.sock").pubkey


@pytest.mark.parametrize("answer, signed", [("y", True), ("yes", True), ("n", False), ("", False)])
def test_the_terminal_prompt_signs_only_on_yes(run_agent, keypair_signer, answer, signed):
    from quantdesk.signing.agent_server import terminal_approver

    _, signer = keypair_signer
    shown: list[str] = []
    prompts: list[str] = []
    agent = run_agent(terminal_approver(ask=lambda p: prompts.append(p) or answer, say=shown.append))
    msg = to_bytes_versioned(order_message(signer))
    console = AgentSigner(agent.path)
    if signed:
        assert Signature.from_bytes(console.sign_message(msg)).verify(signer.pubkey, msg)
    else:
        with pytest.raises(SignerError, match="declined"):
            console.sign_message(msg)
    assert prompts == ["Sign this transaction? [y/N] "] and "drift SOL-PERP buy 2 @ 150 limit" in shown[0]


async def test_a_drift_order_signed_through_the_agent_shows_the_ticket_summary_at_the_agent(run_agent, keypair_signer):
    from support.drift_tx import BLOCKHASH, offline_executor, order_intent
    from quantdesk.signing.policy import summary_lines

    kp, _ = keypair_signer
    trader = Scripted(True)
    agent = run_agent(trader)
    ex = offline_executor(AgentSigner(agent.path))
    assert ex.signer.pubkey == kp.pubkey()
    prepared = await ex.prepare_place(order_intent(size=3 * 10**9, price=149 * 10**6), "q1", blockhash=BLOCKHASH)
    order = await ex.submit_order(prepared)  # dry run: signed by the agent, not sent
    assert "dry run" in order.reason
    tx = ex.last_signed_tx
    tx.verify_and_hash_message()
    assert tx.message.account_keys[0] == kp.pubkey()
    ticket = summary_lines(ex.policy_view(prepared.message))  # what the order ticket shows before signing
    (shown,) = trader.shown
    assert all(line in shown.splitlines() for line in ticket), (ticket, shown)
    assert "  order          drift SOL-PERP buy 3 @ 149 limit" in ticket
