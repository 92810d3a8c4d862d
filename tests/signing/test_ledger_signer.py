"""The Ledger signer against a device double speaking Speculos' TCP framing and
the Solana app's APDUs: public key, app configuration, chunked signing whose
signatures a real SVM accepts, and each device state turned into what to do."""

from __future__ import annotations

import pytest
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0, to_bytes_versioned
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from quantdesk.signing.base import SignerError
from quantdesk.signing.ledger import LedgerSigner, chunks
from quantdesk.signing.spec import open_signer, parse_signer

from support.ledger_double import LedgerDouble, keypair_at, slip10_ed25519

PATH = "44'/501'/0'/0'"


@pytest.fixture
def device():
    d = LedgerDouble()
    yield d
    d.close()


def _ledger(device: LedgerDouble, path: str = PATH) -> LedgerSigner:
    signer = open_signer(parse_signer(f"ledger-tcp:127.0.0.1:{device.port}:{path}"))
    assert isinstance(signer, LedgerSigner)
    return signer


def test_the_double_derives_keys_as_slip10_specifies():
    # SLIP-0010 test vector 1 for ed25519: seed 000102...0f, chain m/0'
    seed = bytes(range(16))
    assert slip10_ed25519(seed, ()).hex() == "2b4be7f19ee27bbf30c667b642d5f4aa69fd169872f8fc3059c08ebae2eb19e7"
    assert slip10_ed25519(seed, (0x8000_0000,)).hex() == "68e0fe46dfb67e368c75379acec591dad19df3cde26e63b93a8e704f1dade7a3"


def test_pubkey_and_app_configuration_come_from_the_device(device):
    ledger = _ledger(device)
    path = (44 | 0x8000_0000, 501 | 0x8000_0000, 0x8000_0000, 0x8000_0000)
    assert ledger.pubkey == keypair_at(path).pubkey()
    assert _ledger(device, "44'/501'/1'").pubkey == keypair_at(path[:2] + (1 | 0x8000_0000,)).pubkey()
    config = ledger.app_configuration()
    assert config["blind_signing"] is True and config["version"] == "1.8.2"
    assert repr(ledger) == "LedgerSigner(path=44'/501'/0'/0')"


def test_a_long_message_goes_in_chunks_and_the_svm_accepts_the_signature(device):
    ledger = _ledger(device)
    svm = LiteSVM()
    svm.airdrop(ledger.pubkey, 10**10)
    # enough transfers that the message is well over one 255-byte APDU
    ixs = [transfer(TransferParams(from_pubkey=ledger.pubkey, to_pubkey=Keypair().pubkey(), lamports=1_000_000)) for _ in range(12)]
    msg = MessageV0.try_compile(ledger.pubkey, ixs, [], svm.latest_blockhash())
    raw = to_bytes_versioned(msg)
    assert len(raw) > 2 * 255
    sig = ledger.sign_message(raw)
    signs = [a for a in device.apdus if a[1] == 0x06]
    assert len(signs) == len(chunks(b"\x01" + bytes(17) + raw)) >= 3
    assert signs[0][3] == 0x02 and signs[-1][3] == 0x01 and all(a[3] == 0x03 for a in signs[1:-1])  # MORE / EXTEND
    assert device.signed == [raw]
    tx = VersionedTransaction.populate(msg, [Signature.from_bytes(sig)])
    assert type(svm.send_transaction(tx)).__name__ == "TransactionMetadata"
    forged = bytearray(sig)
    forged[0] ^= 1
    tampered = VersionedTransaction.populate(msg, [Signature.from_bytes(bytes(forged))])
    assert "SignatureFailure" in str(svm.send_transaction(tampered).err())


@pytest.mark.parametrize(("setup", "says"), [
    (lambda d: setattr(d, "answer", "refuse"), "refused on the Ledger"),
    (lambda d: setattr(d, "state", "locked"), "locked: unlock it with your PIN"),
    (lambda d: setattr(d, "state", "other_app"), "open the Solana app"),
    (lambda d: setattr(d, "blind_signing", False), "enable it in the Solana app's settings"),
])  # fmt: skip
def test_each_device_state_says_what_to_do(device, setup, says):
    ledger = _ledger(device)
    ledger.pubkey  # noqa: B018 - known before the device changes state
    setup(device)
    with pytest.raises(SignerError, match=says):
        ledger.sign_message(b"\x80" + bytes(200))
    assert device.signed == []


def test_the_console_is_told_while_the_device_waits_for_the_trader(device):
    ledger = _ledger(device)
    seen: list[bool] = []
    ledger.on_confirm = seen.append
    device.answer = "refuse"
    with pytest.raises(SignerError):
        ledger.sign_message(b"\x80" + bytes(40))
    assert seen == [True, False]  # shown, then cleared even on a refusal


def test_no_emulator_listening_is_a_message_not_a_traceback():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(SignerError, match="cannot reach the emulator"):
        open_signer(parse_signer(f"ledger-tcp:127.0.0.1:{port}:{PATH}"))


def test_a_usb_ledger_without_hidapi_says_what_to_install():
    try:
        import hid  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("hidapi is installed here: USB is reachable, so there is nothing to install")
    with pytest.raises(SignerError, match=r"pip install 'ledgercomm\[hid\]'"):
        open_signer(parse_signer(f"ledger:{PATH}"))


def test_signer_pubkey_reads_the_address_from_the_ledger(device, capsys, tmp_path):
    from quantdesk.cli import main

    config = tmp_path / "config.toml"
    config.write_text(f'signer = "ledger-tcp:127.0.0.1:{device.port}:44\'/501\'/2\'"\n')
    assert main(["signer", "pubkey", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    expected = keypair_at((44 | 0x8000_0000, 501 | 0x8000_0000, 2 | 0x8000_0000)).pubkey()
    assert out.startswith(f"{expected}  ledger") and "44'/501'/2'" in out
    device.state = "locked"
    assert main(["signer", "pubkey", "--signer", f"ledger-tcp:127.0.0.1:{device.port}:{PATH}"]) == 2
    assert "locked" in capsys.readouterr().err


def test_bytes_that_are_not_a_transaction_message_are_refused_as_bad_data(device):
    ledger = _ledger(device)
    with pytest.raises(SignerError, match="rejected the data as malformed"):
        ledger.sign_message(b"\x05")
    assert device.signed == []
