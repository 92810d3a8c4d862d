"""DSNs: where they come from, and that the password never shows."""

from __future__ import annotations

import pytest

from quantdesk.sync.pg_dsn import DSNError, describe_error, redact, resolve_dsn

SUPABASE = "postgresql://postgres.abcd:S3cr%40tPw@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require"


def test_redact_hides_url_and_keyword_passwords():
    assert redact(SUPABASE) == (
        "postgresql://postgres.abcd:***@aws-0-eu-central-1.pooler.supabase.com:6543/postgres?sslmode=require")
    assert redact("host=db user=me password='a b c' dbname=x") == "host=db user=me password=*** dbname=x"
    assert redact("postgresql://me@localhost/db") == "postgresql://me@localhost/db"
    assert "pw" not in redact("postgresql://localhost/db?password=pw&sslmode=require")


def test_library_errors_are_scrubbed_of_the_password_raw_and_decoded():
    err = RuntimeError("could not use S3cr%40tPw or S3cr@tPw")
    assert describe_error(err, SUPABASE) == "could not use *** or ***"


def test_dsn_precedence_flag_then_environment_then_config(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[db]\ndsn = "postgresql://from-config@h/db"\n')
    monkeypatch.setenv("QUANTDESK_CONFIG", str(cfg))
    monkeypatch.delenv("QUANTDESK_DB__DSN", raising=False)
    assert resolve_dsn() == "postgresql://from-config@h/db"
    monkeypatch.setenv("QUANTDESK_DB__DSN", "postgresql://from-env@h/db")
    assert resolve_dsn() == "postgresql://from-env@h/db"
    assert resolve_dsn("postgresql://from-flag@h/db") == "postgresql://from-flag@h/db"


def test_missing_or_malformed_dsn_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.delenv("QUANTDESK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no config file at all
    monkeypatch.delenv("QUANTDESK_DB__DSN", raising=False)
    with pytest.raises(DSNError, match="pass --dsn, set QUANTDESK_DB__DSN"):
        resolve_dsn()
    with pytest.raises(DSNError, match="postgresql://") as info:
        resolve_dsn("hunter2")
    assert "hunter2" not in str(info.value)


def test_a_broken_config_file_is_reported_not_ignored(tmp_path, monkeypatch):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[db]\ndsn = postgresql://unquoted\n")
    monkeypatch.setenv("QUANTDESK_CONFIG", str(cfg))
    monkeypatch.delenv("QUANTDESK_DB__DSN", raising=False)
    with pytest.raises(DSNError, match="not valid TOML"):
        resolve_dsn()


def test_configured_sync_is_off_without_a_dsn_and_needs_a_user_id(tmp_path, monkeypatch):
    from quantdesk.trading.journal import Journal
    from quantdesk.sync.postgres import SyncError, configured_sync

    monkeypatch.delenv("QUANTDESK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    for var in ("QUANTDESK_DB__DSN", "QUANTDESK_DB__USER_ID", "QUANTDESK_DB__TEAM_ID"):
        monkeypatch.delenv(var, raising=False)
    with Journal.open(tmp_path / "j.sqlite3") as j:
        assert configured_sync(j) is None
        monkeypatch.setenv("QUANTDESK_DB__DSN", "postgresql://me:pw@127.0.0.1/db")
        with pytest.raises(SyncError, match="QUANTDESK_DB__USER_ID"):
            configured_sync(j)
        monkeypatch.setenv("QUANTDESK_DB__USER_ID", "1f0e4c1a-95a4-4d5e-9a43-1d8f0f0b6a01")
        syncer = configured_sync(j)
        assert syncer is not None and syncer.user_id == "1f0e4c1a-95a4-4d5e-9a43-1d8f0f0b6a01"
        assert "pw" not in repr(syncer)
