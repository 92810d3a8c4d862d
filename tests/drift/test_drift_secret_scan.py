"""The trader's secret key appears nowhere a human or a syncer can read: a
Drift order placed and signed from the terminal with a keypair file named by
the ``signer`` setting, with every log record captured at DEBUG, leaves no
form of the secret (raw hex, base58, the Solana CLI JSON array, the 32-byte
seed in base58) in the log, the screen snapshot, the journal database, the
transaction sent, or the error text of a key file gone wrong."""

from __future__ import annotations

import json
import logging
import time

import base58
from driftpy.addresses import get_user_account_public_key
from solders.keypair import Keypair
from solders.pubkey import Pubkey
from solders.transaction import VersionedTransaction

from quantdesk.console.app import QuantDeskApp
from quantdesk.signing.keypair import KeypairSigner
from quantdesk.trading.desk import Desk
from quantdesk.trading.risk import RiskLimits
from quantdesk.venues.drift.config import DRIFT_PROGRAM_ID
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.session import Session
from quantdesk.wiring.signer import open_configured
from quantdesk.wiring.trading import open_paper_trading

from support.app import until_shown
from support.drift_chain import LINES, USER_LINE, pk, raw
from support.drift_servers import local

from test_drift_app_trading import SIZE, place_limit_buy


def secret_forms(kp: Keypair) -> list[bytes]:
    secret = bytes(kp)
    texts = [secret.hex(), base58.b58encode(secret).decode(), json.dumps(list(secret)),
             str(list(secret)), ",".join(map(str, secret)), base58.b58encode(secret[:32]).decode(), secret[:32].hex()]
    return [t.encode() for t in texts] + [secret, secret[:32]]


class _Settings:
    def __init__(self, signer: str) -> None:
        self.signer = signer


def _assert_clean(where: str, blob: bytes, kp: Keypair) -> None:
    leaked = [form[:12] for form in secret_forms(kp) if form in blob]
    assert not leaked, f"a form of the secret key is in {where}"


async def test_a_signed_order_leaves_the_secret_in_no_log_screen_journal_or_error(servers, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    ws, http = servers
    kp = Keypair()
    key_file = tmp_path / "id.json"
    key_file.write_text(json.dumps(list(bytes(kp))))
    key_file.chmod(0o600)

    signer, problem = open_configured(_Settings(f"keypair:{key_file}"))
    assert problem is None and isinstance(signer, KeypairSigner) and signer.pubkey == kp.pubkey()

    for n, line in enumerate(LINES):
        if line["account"] in ("PerpMarket", "SpotMarket"):
            http.accounts[pk(raw(n), 8)] = line["data_b64"]
    user = get_user_account_public_key(Pubkey.from_string(DRIFT_PROGRAM_ID), signer.pubkey, 0)
    http.accounts[str(user)] = LINES[USER_LINE]["data_b64"]
    session = Session([DriftVenue(local(ws, http), signer=signer)], time.time_ns)
    journal_path = tmp_path / "journal.sqlite3"
    trading = open_paper_trading(session, journal_path, RiskLimits(max_leverage=50))
    app = QuantDeskApp(session, desk=Desk(session.cache, trading.router))
    app.configure_console(layout="live")
    screens: list[str] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await place_limit_buy(app, pilot)
            screens.append(app.export_screenshot())  # the transaction preview
            await pilot.press("y")
            await until_shown(app, pilot, lambda: http.sent != [], "the signed transaction at the RPC")
            await until_shown(app, pilot, lambda: any(o.venue == "drift" for o in trading.journal.orders()), "the journal")
            screens.append(app.export_screenshot())
    finally:
        trading.close()

    (tx,) = [VersionedTransaction.from_bytes(b) for b in http.sent]
    tx.verify_and_hash_message()  # signed by this key, and the signature verifies
    assert tx.message.account_keys[0] == kp.pubkey()
    _assert_clean("the transaction sent", b"".join(http.sent), kp)

    # the key file going wrong in each way: the error text names the file, never its content
    errors: list[str] = []
    key_file.chmod(0o644)
    errors.append(str(open_configured(_Settings(f"keypair:{key_file}"))[1]))
    key_file.chmod(0o600)
    key_file.write_text(json.dumps(list(bytes(kp)[:32] + bytes(Keypair().pubkey()))))
    errors.append(str(open_configured(_Settings(f"keypair:{key_file}"))[1]))
    key_file.write_text(json.dumps(list(bytes(kp))[:63]))
    errors.append(str(open_configured(_Settings(f"keypair:{key_file}"))[1]))
    key_file.write_text(base58.b58encode(bytes(kp)).decode()[:-3])
    errors.append(str(open_configured(_Settings(f"keypair:{key_file}"))[1]))
    assert all(e and e != "None" for e in errors)
    assert "chmod 600" in errors[0] and "does not match" in errors[1] and "63 numbers" in errors[2]
    _assert_clean("the error text", "\n".join(errors).encode(), kp)
    _assert_clean("the signer's repr", f"{signer!r} {signer}".encode(), kp)

    log_text = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records  # the order's path logged something at DEBUG: the scan saw real records
    _assert_clean("the log", log_text.encode(), kp)
    _assert_clean("the screen snapshots", "\n".join(screens).encode(), kp)
    journal_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("journal.sqlite3*"))
    assert journal_bytes  # the journal was written
    _assert_clean("the journal database", journal_bytes, kp)
