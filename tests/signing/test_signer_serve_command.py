"""``quantdesk signer serve`` as a trader runs it: a separate process on a real
socket, the policy file applied, bad input answered with what to write."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.message import to_bytes_versioned
from solders.signature import Signature

from quantdesk.signing.agent import AgentSigner
from quantdesk.signing.base import SignerError
from quantdesk.signing.keypair import KeypairSigner
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from support.drift_tx import order_message

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def setup(tmp_path):
    kp = Keypair()
    key = tmp_path / "id.json"
    key.write_text(json.dumps(list(bytes(kp))))
    key.chmod(0o600)
    policy = tmp_path / "policy.toml"
    policy.write_text(f'markets = ["SOL-PERP"]\nmax_notional_per_order = 1000\nmax_notional_per_hour = 5000\n'
                      f'allowed_programs = ["{DRIFT_PROGRAM_ID}"]\n')
    sockdir = Path(tempfile.mkdtemp(prefix="qd-serve-", dir="/tmp"))
    yield kp, key, policy, sockdir / "agent.sock"
    shutil.rmtree(sockdir, ignore_errors=True)


def _cli(*argv, **kw):
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen([sys.executable, "-m", "quantdesk.cli", "signer", *argv], env=env, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)


@pytest.mark.timeout(120)
def test_serve_signs_what_the_policy_allows_and_refuses_the_rest(setup):
    kp, key, policy, sock = setup
    proc = _cli("serve", "--signer", f"keypair:{key}", "--socket", str(sock), "--policy", str(policy))
    try:
        first = proc.stdout.readline()
        assert "listening on" in first and str(kp.pubkey()) in first, proc.stderr.read() if not first else first
        assert stat.S_IMODE(sock.stat().st_mode) == 0o600
        signer = KeypairSigner(kp)
        console = AgentSigner(sock)
        assert console.pubkey == kp.pubkey()
        msg = to_bytes_versioned(order_message(signer, size=2 * 10**9, price=150 * 10**6))
        assert Signature.from_bytes(console.sign_message(msg)).verify(kp.pubkey(), msg)
        # over the per-order cap and no terminal at the agent to ask: refused
        with pytest.raises(SignerError, match="declined"):
            console.sign_message(to_bytes_versioned(order_message(signer, size=10 * 10**9, price=150 * 10**6)))
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "auto-approved" in out and "drift SOL-PERP buy 2 @ 150 limit" in out and "Signer agent stopped." in out
    assert "no terminal to approve at" in out
    assert not sock.exists()  # cleaned up on the way out
    for form in (json.dumps(list(bytes(kp))), bytes(kp).hex()):
        assert form not in out + err


@pytest.mark.parametrize("signer, needle", [
    (None, "name the signer: --signer keypair:PATH"),
    ("agent:/x.sock", "not another agent"),
    ("paper:x", "unknown signer 'paper:x'"),
    ("keypair:/nonexistent/id.json", "does not exist; create one with `solana-keygen new"),
])
def test_bad_signers_say_what_to_write(setup, signer, needle):
    *_, sock = setup
    env_signer = [] if signer is None else ["--signer", signer]
    env = {k: v for k, v in os.environ.items() if k != "QUANTDESK_SIGNER"}
    proc = subprocess.run([sys.executable, "-m", "quantdesk.cli", "signer", "serve", *env_signer, "--socket", str(sock)],
                          env={**env, "PYTHONPATH": str(REPO / "src")}, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr


def test_a_bad_policy_file_is_reported_before_listening(setup):
    _, key, policy, sock = setup
    policy.write_text(policy.read_text().replace('["SOL-PERP"]', "3"))
    proc = _cli("serve", "--signer", f"keypair:{key}", "--socket", str(sock), "--policy", str(policy))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and "markets must be a list of strings" in err and str(policy) in err
    assert not sock.exists()
