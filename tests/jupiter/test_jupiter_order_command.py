"""``quantdesk order jupiter ...`` against the local Solana node: the risk check,
the printed preview of the position request, a dry run that signs and sends
nothing, a sent request whose signature verifies, and one-sentence refusals."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.transaction import VersionedTransaction

from quantdesk import cli
from quantdesk.signing.keypair import KeypairSigner
from quantdesk.trading.journal import Journal

from support.jupiter_chain import SOL_DOVES_ORACLE, price_feed
from support.jupiter_trade_rig import DOVES, USDC_CUSTODY, WALLET_SOL, TradeRig


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("QUANTDESK_LOG_DIR", str(tmp_path / "log"))
    for name in list(__import__("os").environ):
        if name.startswith("QUANTDESK_") and name != "QUANTDESK_LOG_DIR":
            monkeypatch.delenv(name)


@pytest.fixture
def setup(tmp_path):
    kp = Keypair()
    key = tmp_path / "id.json"
    key.write_text(json.dumps(list(bytes(kp))))
    key.chmod(0o600)
    rig = TradeRig(KeypairSigner.from_file(key))  # the wallet the command's signer setting opens
    # the command runs on the wall clock: an oracle updated now
    rig.node.chain.set_quietly(SOL_DOVES_ORACLE, price_feed(11_800_000_000, -8, int(time.time())), owner=DOVES)
    rig.node.http.start()
    rig.node.http.fund(kp.pubkey(), WALLET_SOL)
    yield rig, key
    rig.node.http.stop()


def config(tmp_path: Path, rig: TradeRig, key: Path, risk: str = "") -> Path:
    path = tmp_path / "config.toml"
    path.write_text(f"""signer = "keypair:{key}"

[journal]
path = "{tmp_path / 'journal.sqlite3'}"

[risk]
{risk}

[venues.jupiter]
rpc_urls = ["{rig.node.http.url}"]
ws_urls = []
price_api_url = ""
collateral = {{ USDC = "{USDC_CUSTODY}" }}
http_timeout_s = 2.0

[[venues.jupiter.markets]]
symbol = "SOL-PERP"
base = "SOL"
custody = "7xS2gz2bTp3fwCC7knJvUWTEU9Tycczu6VhJYKgi1wdz"
""")
    return path


def order(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["order", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_dry_run_prints_the_request_and_signs_without_sending(tmp_path, setup, capsys):
    rig, key = setup
    code, out, err = order(capsys, "jupiter", "SOL-PERP", "buy", "0.5", "--dry-run", "--yes",
                           "--config", str(config(tmp_path, rig, key)))  # fmt: skip
    assert code == 0, err
    assert rig.node.http.sent == []
    assert "Transaction preview: place on jupiter (not signed yet)" in out
    assert "create_increase_position_market_request" in out and "open long $59.00 at 2x" in out
    assert "order          jupiter SOL-PERP buy 59 USD market (worst price 118.59)" in out
    assert "Dry run: order" in out and "signed" in out
    with Journal.open(tmp_path / "journal.sqlite3") as j:
        [risk] = j.risk_events()
        assert risk.accepted


def test_a_sent_request_verifies_and_says_when_it_must_be_executed(tmp_path, setup, capsys):
    rig, key = setup
    code, out, err = order(capsys, "jupiter", "SOL-PERP", "sell", "1", "--yes", "--config", str(config(tmp_path, rig, key)))
    assert code == 0, err
    (raw,) = rig.node.http.sent
    tx = VersionedTransaction.from_bytes(raw)
    assert tx.verify_with_results() == [True]
    assert f"signature {tx.signatures[0]}" in out
    assert "A keeper must execute it within 45s or it expires" in out


def test_refusals_are_one_sentence_and_send_nothing(tmp_path, setup, capsys):
    rig, key = setup
    cfg = str(config(tmp_path, rig, key, risk="max_order_notional = 50"))
    code, out, err = order(capsys, "jupiter", "SOL-PERP", "buy", "1", "--yes", "--config", cfg)
    assert code == 1 and "rejected by the risk engine (max_order_notional)" in err
    cfg = str(config(tmp_path, rig, key))
    code, out, err = order(capsys, "jupiter", "SOL-PERP", "buy", "1", "--limit", "117", "--yes", "--config", cfg)
    assert code == 1 and "fills at the oracle price: send a market order" in err
    rig.node.http.down = True
    code, out, err = order(capsys, "jupiter", "SOL-PERP", "buy", "1", "--yes", "--config", cfg)
    assert code == 1 and "cannot read jupiter from the RPC" in err and "venues.jupiter.rpc_urls" in err
    assert rig.node.http.sent == [] and "Traceback" not in err
