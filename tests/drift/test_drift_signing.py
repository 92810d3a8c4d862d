"""The keypair Signer: loads Solana CLI keypair files, signs, never shows its secret."""

from __future__ import annotations

import json
import pickle

import base58
import pytest
from solders.keypair import Keypair
from solders.signature import Signature

from quantdesk.signing.base import Signer, SignerError
from quantdesk.signing.keypair import KeypairSigner


@pytest.fixture
def keyfile(tmp_path):
    kp = Keypair()
    path = tmp_path / "id.json"
    path.write_text(json.dumps(list(bytes(kp))))
    path.chmod(0o600)
    return kp, path


def secret_forms(kp: Keypair) -> list[str]:
    raw = bytes(kp)
    return [json.dumps(list(raw)), raw.hex(), base58.b58encode(raw).decode(), raw[:32].hex(), str(list(raw[:32]))[1:-1]]


def test_loads_a_solana_cli_keypair_and_signs(keyfile):
    kp, path = keyfile
    signer = KeypairSigner.from_file(path)
    assert isinstance(signer, Signer)
    assert signer.pubkey == kp.pubkey()
    msg = b"quantdesk test message"
    sig = signer.sign_message(msg)
    assert len(sig) == 64
    assert Signature.from_bytes(sig).verify(kp.pubkey(), msg)
    assert not Signature.from_bytes(sig).verify(kp.pubkey(), msg + b"!")


def test_secret_never_in_repr_str_or_pickle(keyfile):
    kp, path = keyfile
    signer = KeypairSigner.from_file(path)
    text = repr(signer) + str(signer) + f"{signer}"
    assert str(kp.pubkey()) in text
    for form in secret_forms(kp):
        assert form not in text
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(signer)
    # what a traceback with locals or a debugger would show of its insides
    inner = repr(signer._sealed) + repr([getattr(signer, s) for s in type(signer).__slots__])
    for form in secret_forms(kp):
        assert form not in inner
    assert "SecretKey" not in inner


@pytest.mark.parametrize(
    "content, needle",
    [
        ("not json", "neither a Solana CLI keypair"),
        ("[1, 2, 3]", "holds 3 numbers; a Solana keypair is 64"),
        (json.dumps([300] * 64), "not an array of numbers 0-255"),
        (json.dumps({"secret": [1] * 64}), "neither a Solana CLI keypair"),
    ],
)
def test_bad_keypair_files_get_clear_errors(tmp_path, content, needle):
    path = tmp_path / "bad.json"
    path.write_text(content)
    path.chmod(0o600)  # a key file only its owner can read
    with pytest.raises(SignerError, match=needle) as err:
        KeypairSigner.from_file(path)
    assert str(path) in str(err.value)


def test_mismatched_halves_are_refused_without_echoing_the_secret(tmp_path):
    kp = Keypair()
    raw = bytearray(bytes(kp))
    raw[40] ^= 0xFF  # corrupt the public half
    path = tmp_path / "corrupt.json"
    path.write_text(json.dumps(list(raw)))
    path.chmod(0o600)  # a key file only its owner can read
    with pytest.raises(SignerError) as err:
        KeypairSigner.from_file(path)
    for form in secret_forms(kp):
        assert form not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_missing_file_says_how_to_create_one(tmp_path):
    with pytest.raises(SignerError, match="solana-keygen new"):
        KeypairSigner.from_file(tmp_path / "nope.json")


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o620])
def test_a_keypair_file_open_to_other_users_is_refused_with_the_chmod_to_run(keyfile, mode):
    kp, path = keyfile
    path.chmod(mode)
    with pytest.raises(SignerError) as err:
        KeypairSigner.from_file(path)
    assert f"chmod 600 {path}" in str(err.value) and f"{mode:04o}" in str(err.value)
    assert all(form not in str(err.value) for form in secret_forms(kp))
    path.chmod(0o600)
    assert KeypairSigner.from_file(path).pubkey == kp.pubkey()
