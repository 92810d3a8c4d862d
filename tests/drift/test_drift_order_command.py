"""``quantdesk order`` against the local DLOB + JSON-RPC server: the risk check,
the decoded preview, signing, dry runs that send nothing, and one-sentence
errors (no signer, read-only Velocity, risk rejection, RPC down)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from support.drift_servers import BookSource, HttpServer
from quantdesk import cli
from quantdesk.trading.journal import Journal
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from support.drift_chain import LINES, USER_LINE, pk, raw

SOL = "SOL-PERP"


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("QUANTDESK_LOG_DIR", str(tmp_path / "log"))
    for name in list(__import__("os").environ):
        if name.startswith("QUANTDESK_") and name != "QUANTDESK_LOG_DIR":
            monkeypatch.delenv(name)


@pytest.fixture
def chain():
    """The local server with the fixture markets and a trader whose User account is the fixture user."""
    http = HttpServer(BookSource())
    for n, x in enumerate(LINES):
        if x["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = x["data_b64"]
    http.start()
    yield http
    http.stop()


def trader(tmp_path: Path, http: HttpServer | None) -> Path:
    kp = Keypair()
    key = tmp_path / "id.json"
    key.write_text(json.dumps(list(bytes(kp))))
    key.chmod(0o600)  # a key file only its owner can read
    key.chmod(0o600)
    if http is not None:
        from driftpy.addresses import get_user_account_public_key

        pda = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), kp.pubkey(), 0)
        http.accounts[str(pda)] = LINES[USER_LINE]["data_b64"]
    return key


def config(tmp_path: Path, url: str, *, keypair: Path | None, risk: str = "", venue: str = "drift") -> Path:
    key_line = f'signer = "keypair:{keypair}"\n' if keypair else ""
    path = tmp_path / "config.toml"
    path.write_text(
        f"""{key_line}
[journal]
path = "{tmp_path / 'journal.sqlite3'}"

[risk]
{risk}

[venues.{venue}]
dlob_url = "{url}"
data_api_url = "{url}"
rpc_urls = ["{url}"]
backoff_initial_s = 0.01
backoff_max_s = 0.02
http_timeout_s = 1.0
"""
    )
    return path


def order(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(["order", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def sent_drift_ixs(http: HttpServer) -> list[VersionedTransaction]:
    txs = [VersionedTransaction.from_bytes(b) for b in http.sent]
    for tx in txs:
        tx.verify_and_hash_message()  # raises unless every signature verifies
    return txs


def test_dry_run_prints_the_preview_and_the_signed_transaction_and_sends_nothing(tmp_path, chain, capsys):
    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key)
    code, out, err = order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--post-only",
                           "--dry-run", "--yes", "--config", str(cfg))
    assert code == 0, err
    assert chain.sent == []  # signed, never sent
    preview, signed = out.split("Signed transaction (dry run, NOT sent)")
    # the preview, in human units, before signing
    assert "Transaction preview: place on drift (not signed yet)" in preview
    assert "none (not signed yet)" in preview
    assert "place_perp_order" in preview and "params.price = $176.5" in preview
    assert "params.base_asset_amount = 0.1" in preview and "params.market = SOL-PERP" in preview
    assert "params.post_only = MustPostOnly" in preview
    assert "· authority" in preview and "SOL-PERP market" in preview and "SOL-PERP oracle" in preview
    assert f"ComputeBudget ({'ComputeBudget111111111111111111111111111111'})" in preview
    # the transaction policy's summary, the same one the order ticket and the signer agent show
    for shown in (preview, signed):
        assert "order          drift SOL-PERP buy 0.1 @ 176.5 limit" in shown
        assert "priority fee up to 0 SOL" in shown and "durable nonce  no" in shown
    # the signed transaction: one real signature, same instruction
    sig_line = next(line for line in signed.splitlines() if "signatures" in line)
    sig = sig_line.split()[-1]
    assert len(sig) >= 80 and "not signed" not in sig_line
    assert "place_perp_order" in signed and "Dry run: order" in out
    # the whole path was journaled: intent, accepted risk decision
    with Journal.open(tmp_path / "journal.sqlite3") as j:
        [risk] = j.risk_events()
        assert risk.accepted


def test_signed_order_is_sent_and_verifies(tmp_path, chain, capsys):
    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key)
    code, out, err = order(capsys, "drift", SOL, "sell", "0.5", "--market", "--reduce-only", "--yes", "--config", str(cfg))
    assert code == 0, err
    [tx] = sent_drift_ixs(chain)
    assert str(tx.signatures[0]) in out and "Sent: order" in out
    assert str(tx.message.account_keys[0]) == str(Keypair.from_json(key.read_text()).pubkey())
    assert "params.order_type = Market" in out and "params.reduce_only = True" in out


def test_stop_and_take_profit_make_trigger_orders(tmp_path, chain, capsys):
    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key)
    code, out, err = order(capsys, "drift", SOL, "sell", "0.1", "--stop", "150", "--reduce-only",
                           "--dry-run", "--yes", "--config", str(cfg))
    assert code == 0, err
    assert "params.order_type = TriggerMarket" in out and "params.trigger_price = $150" in out
    assert "params.trigger_condition = Below" in out
    code, out, err = order(capsys, "drift", SOL, "sell", "0.1", "--take-profit", "200", "--limit", "199.9",
                           "--reduce-only", "--dry-run", "--yes", "--config", str(cfg))
    assert code == 0, err
    assert "params.order_type = TriggerLimit" in out and "params.trigger_condition = Above" in out
    assert "params.price = $199.9" in out
    assert chain.sent == []


def test_risk_rejection_names_the_limit_and_the_excess_and_signs_nothing(tmp_path, chain, capsys):
    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key, risk="max_order_notional = 10")
    code, out, err = order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--yes", "--config", str(cfg))
    assert code == 1
    assert "Transaction preview" not in out and chain.sent == []
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "max_order_notional" in err
    assert "order notional $17.65 exceeds the max order notional $10.00 by $7.65" in err


def test_no_signer_is_one_sentence(tmp_path, chain, capsys):
    cfg = config(tmp_path, chain.url, keypair=None)
    code, out, err = order(capsys, "drift", SOL, "buy", "0.1", "--yes", "--config", str(cfg))
    assert code == 1 and out == ""
    assert err.strip() == (
        "quantdesk order: drift: no signer configured; watching only. Set signer = \"keypair:PATH\" (or agent:SOCKET) in the config to trade."
    )


def test_velocity_without_idl_is_read_only(tmp_path, chain, capsys):
    key = trader(tmp_path, None)
    cfg = config(tmp_path, chain.url, keypair=key, venue="velocity")
    code, out, err = order(capsys, "velocity", SOL, "buy", "0.1", "--yes", "--config", str(cfg))
    assert code == 1 and chain.sent == []
    assert "velocity: on-chain decoding and orders need the program IDL" in err
    assert "Set venues.velocity.idl_path" in err and err.count("\n") == 1


def test_rpc_down_is_one_sentence(tmp_path, capsys):
    key = trader(tmp_path, None)
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    cfg = config(tmp_path, dead, keypair=key)
    code, out, err = order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--yes", "--config", str(cfg))
    assert code == 1 and "Traceback" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("quantdesk order: cannot load the drift account from the RPC: RPC unavailable")
    assert last.endswith("Check venues.drift.rpc_urls.")


def test_bad_input_is_refused_before_anything_is_fetched(tmp_path, chain, capsys):
    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key)
    code, _, err = order(capsys, "drift", SOL, "buy", "0.123456789123", "--yes", "--config", str(cfg))
    assert code == 2 and "not a multiple of the lot" in err
    code, _, err = order(capsys, "drift", "DOGE-PERP", "buy", "1", "--yes", "--config", str(cfg))
    assert code == 2 and "DOGE-PERP is not a market of drift" in err
    code, _, err = order(capsys, "sim-drift", SOL, "buy", "1", "--yes", "--config", str(cfg))
    assert code == 2 and "not a live venue" in err
    code, _, err = order(capsys, "drift", SOL, "buy", "1", "--stop", "1", "--take-profit", "2", "--config", str(cfg))
    assert code == 2 and "not both" in err
    # Only the public market listing was read (to know DOGE-PERP is not listed):
    # nothing of the trader's account, nothing sent.
    assert chain.sent == []
    assert {body["method"] for _, _, body in chain.requests} <= {"getProgramAccounts"}


def test_without_yes_and_no_terminal_it_asks_for_yes(tmp_path, chain, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key)
    code, out, err = order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--config", str(cfg))
    assert code == 1 and chain.sent == []
    assert "Transaction preview" in out  # shown, then not signed
    assert "pass --yes" in err


def test_declining_at_the_prompt_sends_nothing(tmp_path, chain, capsys, monkeypatch):
    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key)

    class Tty:
        def isatty(self):
            return True

    monkeypatch.setattr("sys.stdin", Tty())
    monkeypatch.setattr("builtins.input", lambda prompt: "n")
    code, out, err = order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--config", str(cfg))
    assert code == 1 and chain.sent == []
    assert "declined" in err
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    code, out, err = order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--config", str(cfg))
    assert code == 0 and len(sent_drift_ixs(chain)) == 1


def _secret_forms(key: Path) -> list[bytes]:
    import base58

    raw = bytes(json.loads(key.read_text()))
    forms = [raw, raw[:32], raw.hex().encode(), base58.b58encode(raw), base58.b58encode(raw[:32]),
             json.dumps(list(raw)).encode(), str(list(raw)).encode(), json.dumps(list(raw)).replace(" ", "").encode()]  # fmt: skip
    return forms


def test_the_secret_key_reaches_no_output_log_journal_or_screen(tmp_path, chain, capsys):
    import logging

    from quantdesk.console.app import QuantDeskApp
    from quantdesk.signing.keypair import KeypairSigner

    from support.app import paused_session

    key = trader(tmp_path, chain)
    cfg = config(tmp_path, chain.url, keypair=key)
    log_file = tmp_path / "debug.log"
    handler = logging.FileHandler(log_file)
    logging.getLogger().addHandler(handler)
    old_level = logging.getLogger().level
    logging.getLogger().setLevel(logging.DEBUG)
    try:
        outputs = [order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--yes", "--config", str(cfg)),
                   order(capsys, "drift", SOL, "buy", "10000", "--market", "--yes", "--config", str(cfg)),  # refused by risk
                   order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--dry-run", "--yes", "--config", str(cfg))]  # fmt: skip
        key.chmod(0o644)  # and the error paths: a key others can read
        outputs.append(order(capsys, "drift", SOL, "buy", "0.1", "--limit", "176.5", "--yes", "--config", str(cfg)))
    finally:
        logging.getLogger().removeHandler(handler)
        logging.getLogger().setLevel(old_level)
        handler.close()
        key.chmod(0o600)
    assert "chmod 600" in outputs[-1][2]

    async def screen() -> str:
        session = paused_session()
        session.signer = KeypairSigner.from_file(key)
        app = QuantDeskApp(session)
        async with app.run_test(size=(200, 50)) as pilot:
            await pilot.pause()
            return app.export_screenshot() + repr(session.signer) + repr(vars(app.trading))

    import asyncio

    svg = asyncio.run(screen())
    places = {
        "stdout and stderr": "\n".join(o + e for _, o, e in outputs).encode(),
        "the log": log_file.read_bytes(),
        "the journal": (tmp_path / "journal.sqlite3").read_bytes(),
        "the screen": svg.encode(),
    }
    for dirpath in (tmp_path / "log", tmp_path / "xdg-data"):
        for path in dirpath.rglob("*") if dirpath.exists() else []:
            if path.is_file():
                places[str(path)] = path.read_bytes()
    for where, data in places.items():
        for form in _secret_forms(key):
            assert form not in data, f"the secret key ({form[:6]!r}...) is in {where}"
