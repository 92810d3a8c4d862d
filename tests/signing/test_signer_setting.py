"""One `signer` setting for every venue: parsed with messages that say what to
write, validated with the rest of the config, the old per-venue key refused
with its replacement; keypair files in both formats, each way a file can be
wrong with its own message and never the secret; `quantdesk signer pubkey`."""

from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest
from solders.keypair import Keypair
from solders.litesvm import LiteSVM
from solders.message import MessageV0, to_bytes_versioned
from solders.signature import Signature
from solders.system_program import TransferParams, transfer
from solders.transaction import VersionedTransaction

from quantdesk.cli import main
from quantdesk.config.settings import check_config
from quantdesk.signing.base import SignerError
from quantdesk.signing.keypair import KeypairSigner
from quantdesk.signing.spec import HARDENED, SignerSpecError, open_signer, parse_signer


def _secret_forms(kp: Keypair) -> list[str]:
    raw = bytes(kp)
    return [raw.hex(), base58.b58encode(raw).decode(), json.dumps(list(raw)), str(list(raw)), base58.b58encode(raw[:32]).decode()]


def _key_file(tmp_path: Path, kp: Keypair, *, form: str = "json", mode: int = 0o600) -> Path:
    path = tmp_path / f"id-{form}.json"
    path.write_text(json.dumps(list(bytes(kp))) if form == "json" else base58.b58encode(bytes(kp)).decode() + "\n")
    path.chmod(mode)
    return path


@pytest.mark.parametrize(("text", "kind"), [
    (None, "none"), ("none", "none"), ("keypair:/k/id.json", "keypair"), ("keypair", "keypair"),
    ("ledger:44'/501'/0'/0'", "ledger"), ("ledger:44'/501'/0'", "ledger"),
    ("ledger-tcp:127.0.0.1:9999:44'/501'/1'/0'", "ledger"), ("agent:/tmp/a.sock", "agent"),
])  # fmt: skip
def test_every_documented_signer_form_parses(text, kind):
    spec = parse_signer(text)
    assert spec.kind == kind
    if text == "keypair":
        assert str(spec.path).endswith(".config/solana/id.json")  # the Solana CLI's default file
    if text and text.startswith("ledger-tcp"):
        assert (spec.host, spec.port) == ("127.0.0.1", 9999)
        assert spec.derivation == (44 | HARDENED, 501 | HARDENED, 1 | HARDENED, 0 | HARDENED)
        assert spec.derivation_text == "44'/501'/1'/0'"


@pytest.mark.parametrize(("text", "says"), [
    ("keypar:/x", "unknown signer"), ("agent:", "agent:SOCKET"), ("ledger:44'/501'", "3 or 4 components"),
    ("ledger:44'/60'/0'/0'", "not a Solana path"), ("ledger:44'/501'/x'/0'", "a number below 2^31"),
    ("ledger-tcp:host:notaport:44'/501'/0'", "ledger-tcp:HOST:PORT:PATH"),
])  # fmt: skip
def test_a_wrong_signer_says_what_to_write(text, says):
    with pytest.raises(SignerSpecError, match=says.replace("^", r"\^")):
        parse_signer(text)


def test_the_config_validates_the_signer_with_every_other_problem(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('signer = "keypar:/x"\n[ui]\nfps = 0\n')
    _, problems = check_config(path, environ={})
    text = "\n".join(str(p) for p in problems)
    assert "signer" in text and "unknown signer" in text and "fps" in text


def test_the_old_per_venue_keypair_path_is_refused_with_its_replacement(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text('[venues.drift]\nkeypair_path = "~/.config/solana/id.json"\n')
    _, problems = check_config(path, environ={})
    text = "\n".join(str(p) for p in problems)
    assert 'signer = "keypair:~/.config/solana/id.json"' in text


def test_quantdesk_signer_in_the_environment_sets_the_signer(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("")
    settings, problems = check_config(path, environ={"QUANTDESK_SIGNER": "agent:/tmp/agent.sock"})
    assert not problems and settings.signer == "agent:/tmp/agent.sock"


def test_a_keypair_file_in_either_format_signs_and_the_svm_accepts_it(tmp_path):
    kp = Keypair()
    for form in ("json", "base58"):
        signer = open_signer(parse_signer(f"keypair:{_key_file(tmp_path, kp, form=form)}"))
        assert signer is not None and signer.pubkey == kp.pubkey()
        svm = LiteSVM()
        svm.airdrop(kp.pubkey(), 10**9)
        ix = transfer(TransferParams(from_pubkey=kp.pubkey(), to_pubkey=Keypair().pubkey(), lamports=10_000))
        msg = MessageV0.try_compile(kp.pubkey(), [ix], [], svm.latest_blockhash())
        tx = VersionedTransaction.populate(msg, [Signature.from_bytes(signer.sign_message(to_bytes_versioned(msg)))])
        assert svm.send_transaction(tx).__class__.__name__ == "TransactionMetadata"
        other = Keypair()
        forged = VersionedTransaction.populate(msg, [other.sign_message(to_bytes_versioned(msg))])
        assert "SignatureFailure" in str(svm.send_transaction(forged).err())


@pytest.mark.parametrize(("content", "says"), [
    ("[1, 2,", "not valid JSON"),
    ("[1, 2, 3]", "holds 3 numbers"),
    ('{"secret": 1}', "neither"),
    ("[" + ", ".join(["300"] * 64) + "]", "numbers 0-255"),
    ("3yZe7d", "base58 key of"),
])  # fmt: skip
def test_each_broken_key_file_has_its_own_message(tmp_path, content, says):
    path = tmp_path / "id.json"
    path.write_text(content)
    path.chmod(0o600)
    with pytest.raises(SignerError, match=says):
        KeypairSigner.from_file(path)


def test_a_key_whose_public_half_does_not_match_is_refused_without_the_secret(tmp_path):
    a, b = Keypair(), Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(a)[:32] + bytes(b)[32:])))
    path.chmod(0o600)
    with pytest.raises(SignerError, match="public half does not match") as err:
        KeypairSigner.from_file(path)
    assert not any(form in str(err.value) for form in _secret_forms(a))


def test_a_key_file_others_can_read_is_refused_with_the_chmod(tmp_path):
    path = _key_file(tmp_path, Keypair(), mode=0o644)
    with pytest.raises(SignerError, match=f"chmod 600 {path}"):
        KeypairSigner.from_file(path)


def test_signer_pubkey_prints_the_key_and_kind_and_never_the_secret(tmp_path, capsys):
    kp = Keypair()
    key = _key_file(tmp_path, kp)
    config = tmp_path / "config.toml"
    config.write_text(f'signer = "keypair:{key}"\n')
    assert main(["signer", "pubkey", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert str(kp.pubkey()) in out and "keypair" in out
    assert not any(form in out for form in _secret_forms(kp))
    signer = KeypairSigner.from_file(key)
    assert not any(form in repr(signer) + str(signer) for form in _secret_forms(kp))

    config.write_text("")
    assert main(["signer", "pubkey", "--config", str(config)]) == 1
    assert "no signer configured" in capsys.readouterr().out
    assert main(["signer", "pubkey", "--signer", f"keypair:{tmp_path / 'none.json'}"]) == 2
    assert "does not exist" in capsys.readouterr().err
