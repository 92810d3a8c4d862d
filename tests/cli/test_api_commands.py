"""``quantdesk api token`` and ``quantdesk serve api`` as a script runs them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jwt

from quantdesk import cli
from quantdesk.serve.api.auth import verify

SECRET = "cli-secret-for-the-data-api-0123456789abcdef"
REPO = Path(__file__).resolve().parents[2]


def test_api_token_mints_a_scoped_expiring_token_and_never_prints_the_secret(capfd, monkeypatch):
    monkeypatch.setenv("QUANTDESK_API__JWT_SECRET", SECRET)
    code = cli.main(["api", "token", "--scope", "market:read", "--scope", "positions:read", "--ttl", "15m"])
    out, err = capfd.readouterr()
    assert code == 0, err
    token = out.strip()
    claims = jwt.decode(token, SECRET, algorithms=["HS256"])
    assert claims["exp"] - claims["iat"] == 900
    assert verify(token, SECRET, claims["iat"]).scopes == {"market:read", "positions:read"}
    assert SECRET not in out + err


def test_api_token_without_a_secret_says_where_to_set_it(capfd, monkeypatch):
    monkeypatch.delenv("QUANTDESK_API__JWT_SECRET", raising=False)
    assert cli.main(["api", "token"]) == 2
    assert "QUANTDESK_API__JWT_SECRET" in capfd.readouterr().err


def test_api_token_bad_ttl(capfd, monkeypatch):
    monkeypatch.setenv("QUANTDESK_API__JWT_SECRET", SECRET)
    assert cli.main(["api", "token", "--ttl", "soon"]) == 2
    assert "1h" in capfd.readouterr().err


def test_serve_api_refuses_a_bad_listen_address(capfd, monkeypatch):
    monkeypatch.setenv("QUANTDESK_API__JWT_SECRET", SECRET)
    assert cli.main(["serve", "api", "--listen", "localhost", "--source", "sim"]) == 2
    assert "HOST:PORT" in capfd.readouterr().err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_api_answers_curl_with_a_minted_token(tmp_path):
    port = _free_port()
    env = {**os.environ, "QUANTDESK_API__JWT_SECRET": SECRET, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "quantdesk.cli", "serve", "api", "--source", "sim", "--listen", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token = subprocess.run(
            [sys.executable, "-m", "quantdesk.cli", "api", "token", "--ttl", "1h"], env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 30  # a separate process: wait for it to listen
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/markets", headers=headers, timeout=5)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.communicate()[1]
                assert time.monotonic() < deadline, "serve api did not listen"
                time.sleep(0.1)
        assert r.status_code == 200
        assert {"sim-drift", "sim-jup"} <= {m["venue"] for m in r.json()}
        assert httpx.get(f"http://127.0.0.1:{port}/v1/markets", timeout=5).status_code == 401
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert SECRET not in out + err


def test_serve_api_and_api_token_refuse_a_missing_secret_with_the_same_advice(capfd, monkeypatch):
    monkeypatch.delenv("QUANTDESK_API__JWT_SECRET", raising=False)
    assert cli.main(["serve", "api", "--source", "sim"]) == 2
    serve_err = capfd.readouterr().err
    assert cli.main(["api", "token"]) == 2
    token_err = capfd.readouterr().err
    assert serve_err.startswith("quantdesk serve api: ") and token_err.startswith("quantdesk api token: ")
    assert serve_err.split(": ", 1)[1] == token_err.split(": ", 1)[1]
    assert "QUANTDESK_API__JWT_SECRET" in serve_err


def test_the_loaded_api_secret_never_shows_in_a_repr(monkeypatch):
    from quantdesk.commands.api_settings import load_api_settings

    monkeypatch.setenv("QUANTDESK_API__JWT_SECRET", SECRET)
    api = load_api_settings(None)
    assert api.secret == SECRET
    assert SECRET not in repr(api)
