"""``quantdesk doctor`` against real Redis and PostgreSQL, closed ports and
listening ones: each failure says what to fix, no password is printed."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from quantdesk import cli
from quantdesk.wiring.doctor import check_terminal

PG = "postgresql://postgres@127.0.0.1:5432/test"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("QUANTDESK_REDIS_URL", "QUANTDESK_SIGNER", "QUANTDESK_DB__DSN", "QUANTDESK_REDIS__URL"):
        monkeypatch.delenv(var, raising=False)
    cfg = tmp_path / "config.toml"
    cfg.write_text("")
    return cfg


def test_doctor_passes_with_reachable_redis_and_postgres(capfd, clean_env, redis_url):
    code = cli.main(["doctor", "--config", str(clean_env), "--redis", redis_url, "--dsn", PG])
    out = capfd.readouterr().out
    assert code == 0, out
    assert "ok    redis: " in out and "answers PING" in out
    assert "ok    postgres: " in out and "0 failed" in out


def test_doctor_names_each_failure_with_its_fix_and_hides_passwords(capfd, clean_env, listening):
    port = _closed_port()
    clean_env.write_text(
        f'signer = "keypair:{clean_env.parent / "missing.json"}"\n'
        f'[venues.drift]\nrpc_urls = ["http://127.0.0.1:{listening}/?api-key=rpckey123"]\n'
        f'dlob_url = "http://127.0.0.1:{port}"\n'
    )
    code = cli.main([
        "doctor", "--config", str(clean_env), "--timeout", "2",
        "--redis", f"redis://desk:hunter2@127.0.0.1:{port}/0", "--dsn", f"postgresql://postgres:pgpass99@127.0.0.1:{port}/test",
    ])
    out = capfd.readouterr().out
    assert code == 1
    lines = out.splitlines()
    fails = {line.split(":")[0] for line in lines if line.startswith("FAIL")}
    assert {"FAIL  redis", "FAIL  postgres", "FAIL  signer", "FAIL  venue drift dlob_url"} <= fails
    assert any(line.startswith("ok    venue drift rpc_urls[0]: ") for line in lines)
    for i, line in enumerate(lines):
        if line.startswith("FAIL"):
            assert lines[i + 1].startswith("      fix: "), line
    for secret in ("hunter2", "pgpass99", "rpckey123"):
        assert secret not in out


def test_doctor_reports_a_broken_config_with_where_to_check_it(capfd, clean_env):
    clean_env.write_text("[ui]\nfps = -1\n")
    assert cli.main(["doctor", "--config", str(clean_env)]) == 1
    out = capfd.readouterr().out
    assert out.startswith("FAIL  config:") and "quantdesk config validate" in out


def test_terminal_checks_colour_and_size():
    good = check_terminal({"COLORTERM": "truecolor", "TERM": "xterm-256color"}, (120, 35))
    assert [c.status for c in good] == ["ok", "ok"]
    small = check_terminal({"TERM": "vt100"}, (70, 20))
    assert [c.status for c in small] == ["warn", "warn"]
    assert "xterm-256color" in small[0].fix and "80x24" in small[1].fix
    assert check_terminal({"NO_COLOR": "1", "COLORTERM": "truecolor"}, (80, 24))[0].status == "warn"


async def test_doctor_reads_each_rpc_endpoints_slot_over_json_rpc(servers, tmp_path):
    import asyncio

    from quantdesk.config.settings import load_config
    from quantdesk.wiring.doctor import check_venues

    _ws, http = servers
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[venues.drift]\nrpc_urls = ["{http.url}/", "{http.url}/?k=1"]\n')
    checks = await asyncio.to_thread(check_venues, load_config(cfg), 2.0)
    slot_lines = [c for c in checks if c.name.endswith(" slot")]
    assert [(c.name, c.status) for c in slot_lines] == [
        ("venue drift rpc_urls[0] slot", "ok"), ("venue drift rpc_urls[1] slot", "ok")
    ]
    assert f"slot {http.slot}, 0 behind" in slot_lines[0].detail


def test_an_rpc_endpoint_behind_the_freshest_is_a_warning_with_a_fix():
    from quantdesk.wiring.doctor import MAX_SLOT_LAG, check_slot_lag

    fresh, stale = check_slot_lag({"a": 1000, "b": 1000 - MAX_SLOT_LAG - 1})
    assert fresh.status == "ok" and stale.status == "warn"
    assert f"{MAX_SLOT_LAG + 1} behind" in stale.detail and "fresher" in stale.fix
