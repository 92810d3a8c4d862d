"""The host key is made once and kept private; authorized keys name traders,
and every bad line is reported at once."""

from __future__ import annotations

import os

import pytest

from quantdesk.cli import main
from quantdesk.serve.ssh.keys import KeyFileError, load_authorized_keys, load_or_create_host_key, trader_for
from support.ssh_client import client_key, write_authorized


def test_the_host_key_is_generated_0600_once_and_then_reused(tmp_path):
    path = tmp_path / "keys" / "host"
    first = load_or_create_host_key(path)
    assert first.created and (path.stat().st_mode & 0o777) == 0o600
    assert first.fingerprint.startswith("SHA256:")
    again = load_or_create_host_key(path)
    assert not again.created and again.fingerprint == first.fingerprint


def test_a_host_key_others_can_read_is_refused_with_the_fix(tmp_path):
    path = tmp_path / "host"
    load_or_create_host_key(path)
    os.chmod(path, 0o644)
    with pytest.raises(KeyFileError, match=f"chmod 600 {path}"):
        load_or_create_host_key(path)


def test_a_host_key_file_that_is_not_a_key_says_what_to_do(tmp_path):
    path = tmp_path / "host"
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="not an SSH private key.*--host-key"):
        load_or_create_host_key(path)


def test_traders_are_named_by_option_or_comment(tmp_path):
    alice, carol = client_key("alice"), client_key("old-laptop")
    carol_line = 'environment="QUANTDESK_USER=carol",no-agent-forwarding ' + carol.export_public_key().decode().strip()
    keys = load_authorized_keys(write_authorized(tmp_path / "ak", alice, lines=("# a comment", "", carol_line)))
    assert [k.user for k in keys] == ["alice", "carol"]
    assert trader_for(keys, alice) == "alice" and trader_for(keys, carol) == "carol"
    assert trader_for(keys, client_key("alice")) is None  # same comment, different key


def test_a_key_line_gives_the_traders_database_user_id(tmp_path):
    alice, bob = client_key("alice"), client_key("bob")
    uid = "6F1C3A52-0D4B-4E7A-9C3E-2B8D1F0A4C55"
    line = f'environment="QUANTDESK_DB__USER_ID={uid}" ' + alice.export_public_key().decode().strip()
    keys = load_authorized_keys(write_authorized(tmp_path / "ak", bob, lines=(line,)))
    assert [(k.user, k.user_id) for k in keys] == [("bob", ""), ("alice", uid.lower())]
    bad = f'environment="QUANTDESK_DB__USER_ID=alice" ' + alice.export_public_key().decode().strip()
    with pytest.raises(KeyFileError, match=r":1: QUANTDESK_DB__USER_ID 'alice' is not a uuid: give alice's database user id"):
        load_authorized_keys(write_authorized(tmp_path / "bad", lines=(bad,)))


def test_every_bad_authorized_keys_line_is_reported_at_once(tmp_path):
    nameless = client_key("").export_public_key().decode().split()[:2]
    path = write_authorized(
        tmp_path / "ak", client_key("alice"),
        lines=("ssh-ed25519 AAAAnotbase64 bob", " ".join(nameless), " ".join([*nameless, "two words"])),
    )
    with pytest.raises(KeyFileError) as err:
        load_authorized_keys(path)
    text = str(err.value)
    assert f"{path}:2: not a public key line" in text
    assert f"{path}:3: no trader name" in text and "QUANTDESK_USER" in text
    assert f"{path}:4: trader name 'two words' is not a plain word" in text


def test_serve_ssh_without_authorized_keys_says_where_it_looked(tmp_path, capsys):
    code = main(["serve", "ssh", "--authorized-keys", str(tmp_path / "missing"), "--host-key", str(tmp_path / "hk")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"cannot read the authorized keys {tmp_path / 'missing'}" in err and "--authorized-keys" in err
    assert not (tmp_path / "hk").exists()  # nothing written before the keys were usable


@pytest.mark.parametrize("flag, value, says", [
    ("--max-sessions", "0", "--max-sessions must be between 1 and"),
    ("--idle-timeout", "-5", "--idle-timeout is minutes"),
    ("--listen", "nowhere", "is not HOST:PORT"),
])
def test_serve_ssh_refuses_bad_flags_with_a_message(tmp_path, capsys, flag, value, says):
    assert main(["serve", "ssh", flag, value]) == 2
    assert says in capsys.readouterr().err
