"""`quantdesk login supabase` against a server speaking Supabase Auth's
token, OTP and verify endpoints: the session lands in the user data dir,
readable by the user only, and no password or token is ever printed."""

from __future__ import annotations

import io
import json
import stat

import pytest

from quantdesk.cli import main as cli_main
from quantdesk.sync.supabase_session import load_session, session_path
from support.services import free_port
from support.supabase import ANON_KEY, project_config

PASSWORD = "ana-password-1"


def login(monkeypatch, config, *args: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return cli_main(["login", "supabase", "--config", str(config), *args])


def test_password_login_saves_a_private_session_and_prints_no_secret(supabase_auth, tmp_path, monkeypatch, capsys):
    config = project_config(tmp_path, supabase_auth.url)
    assert login(monkeypatch, config, "--email", "ana@desk.test", "--password-stdin", stdin=PASSWORD + "\n") == 0
    out = capsys.readouterr()
    assert "Signed in to" in out.out and "ana@desk.test" in out.out
    path = session_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = load_session()
    assert stored is not None and stored.url == supabase_auth.url
    assert stored.access_token == supabase_auth.auth.issued[-1]
    assert stored.user_id == supabase_auth.auth.users["ana@desk.test"].id
    assert stored.refresh_token in supabase_auth.auth.refresh_tokens
    for secret in (stored.access_token, stored.refresh_token, PASSWORD, ANON_KEY):
        assert secret not in out.out + out.err
        assert secret not in repr(stored)
    assert supabase_auth.missing_key == 0  # every call carried the anon key

    assert cli_main(["login", "supabase", "--config", str(config), "--status"]) == 0
    status = capsys.readouterr().out
    assert "Signed in to" in status and "ana@desk.test" in status and stored.access_token not in status

    assert cli_main(["logout", "supabase", "--config", str(config)]) == 0
    assert "Signed out" in capsys.readouterr().out
    assert not path.exists()
    assert ("POST", "/auth/v1/logout") in supabase_auth.requests


def test_wrong_password_is_refused_clearly_and_saves_nothing(supabase_auth, tmp_path, monkeypatch, capsys):
    config = project_config(tmp_path, supabase_auth.url)
    assert login(monkeypatch, config, "--email", "ana@desk.test", "--password-stdin", stdin="nope-secret\n") == 1
    err = capsys.readouterr().err
    assert "Supabase refused the sign-in: Invalid login credentials" in err
    assert "Check the email and password" in err and "nope-secret" not in err
    assert not session_path().exists()


def test_emailed_code_signs_in(supabase_auth, tmp_path, monkeypatch, capsys):
    config = project_config(tmp_path, supabase_auth.url)
    codes = supabase_auth.auth.codes
    # The trader types the code from the email the server just "sent".
    monkeypatch.setattr("builtins.input", lambda prompt="": codes["ana@desk.test"])
    assert login(monkeypatch, config, "--email", "ana@desk.test", "--code") == 0
    out = capsys.readouterr()
    assert "emailed a sign-in code to ana@desk.test" in out.err and "Signed in to" in out.out
    assert load_session() is not None and ("POST", "/auth/v1/verify") in supabase_auth.requests

    monkeypatch.setattr("builtins.input", lambda prompt="": "000000")  # a wrong code
    session_path().unlink()
    assert login(monkeypatch, config, "--email", "ana@desk.test", "--code") == 1
    assert "Token has expired or is invalid" in capsys.readouterr().err
    assert not session_path().exists()


def test_login_without_a_project_or_with_auth_down_says_what_to_do(tmp_path, monkeypatch, capsys):
    bare = tmp_path / "bare.toml"
    bare.write_text("")
    assert login(monkeypatch, bare, "--email", "a@b.c", "--password-stdin", stdin="x\n") == 2
    assert "add [sync.supabase] with url and anon_key" in capsys.readouterr().err
    down = project_config(tmp_path, f"http://127.0.0.1:{free_port()}")
    assert login(monkeypatch, down, "--email", "a@b.c", "--password-stdin", stdin="x\n") == 1
    assert "did not answer" in capsys.readouterr().err


def test_a_damaged_session_file_says_to_sign_in_again(supabase_auth, tmp_path, monkeypatch, capsys):
    config = project_config(tmp_path, supabase_auth.url)
    session_path().parent.mkdir(parents=True)
    session_path().write_text(json.dumps({"url": supabase_auth.url}))
    assert cli_main(["login", "supabase", "--config", str(config), "--status"]) == 1
    assert "is damaged; run `quantdesk login supabase`" in capsys.readouterr().err


@pytest.mark.parametrize("key", ["", "   "])
def test_an_empty_anon_key_is_a_config_problem(tmp_path, monkeypatch, capsys, key):
    config = tmp_path / "c.toml"
    config.write_text(f'[sync.supabase]\nurl = "https://x.supabase.co"\nanon_key = "{key}"\n')
    assert login(monkeypatch, config, "--email", "a@b.c", "--password-stdin", stdin="x\n") == 2
    assert "anon_key" in capsys.readouterr().err
