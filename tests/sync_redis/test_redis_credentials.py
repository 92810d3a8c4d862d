"""ACL users, passwords and TLS work, and a password never shows anywhere."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
import redis

from quantdesk.sync.redis_feed import FeedPublisher
from quantdesk.venues.relay.venue import FeedSource
from support.feed_rig import redis_session
from quantdesk.sync.redis_url import RedisURLError, client, describe_error, redact, validate
from quantdesk.sync.workspace import Workspace, WorkspaceError
from quantdesk.venues.base import VenueError

from support.feed_rig import book_mismatches, FeedRig
from support.wait import wait_until

ADMIN_PW = "adm1n-Pw"
PASSWORD = "S3cr3t:p@ss/w%rd"  # needs percent-encoding in a URL


def _desk_url(port: int, password: str = PASSWORD) -> str:
    return f"redis://desk:{quote(password, safe='')}@127.0.0.1:{port}/0"


def _shown(texts) -> str:
    return "\n".join(str(t) for t in texts)


def _assert_hidden(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text
        assert quote(secret, safe="") not in text


@pytest.fixture
def acl_server(redis_server):
    srv = redis_server(["--requirepass", ADMIN_PW])
    admin = redis.Redis(port=srv.port, password=ADMIN_PW)
    # The desk user may touch QuantDesk keys and channels only.
    admin.execute_command("ACL", "SETUSER", "desk", "on", f">{PASSWORD}", "~qd:*", "&qd:*", "+@all", "-@dangerous")
    admin.close()
    return srv


def test_redact_hides_passwords_keeps_the_rest():
    assert redact("redis://desk:hunter2@cache.internal:6380/2") == "redis://desk:***@cache.internal:6380/2"
    assert redact("rediss://:hunter2@h:6379/0?ssl_ca_certs=/etc/ca.pem") == "rediss://:***@h:6379/0?ssl_ca_certs=/etc/ca.pem"
    assert redact("redis://h:6379/0?password=hunter2&db=1") == "redis://h:6379/0?password=***&db=1"
    assert redact("redis://desk@h/0") == "redis://desk@h/0"
    assert "hunter2" not in redact("redis://a:hunter2@[::1:bad")


def test_bad_urls_say_what_to_fix(tmp_path):
    with pytest.raises(RedisURLError, match="use redis://, rediss://"):
        validate("http://desk:hunter2@h:6379")
    with pytest.raises(RedisURLError, match="names no host"):
        validate("redis://")
    with pytest.raises(RedisURLError, match="not a number"):
        validate("redis://h:6379/zero")
    with pytest.raises(RedisURLError, match="does not exist"):
        validate(f"rediss://h:6379/0?ssl_ca_certs={tmp_path}/missing.pem")
    with pytest.raises(RedisURLError, match="needs TLS"):
        validate(f"redis://h:6379/0?ssl_ca_certs={tmp_path}/missing.pem")
    for bad in ("http://desk:hunter2@h:6379", "redis://desk:hunter2@h:port/0"):
        with pytest.raises(RedisURLError) as err:
            validate(bad)
        assert "hunter2" not in str(err.value)


async def test_acl_user_feed_and_workspace_work_and_the_password_never_shows(acl_server, caplog):
    caplog.set_level(logging.DEBUG)
    url = _desk_url(acl_server.port)
    feed = await FeedRig(url, "acl", rate=800).start()
    term = redis_session(url, "acl")
    ws = Workspace(url, "acl", "alice")
    try:
        await term.start()
        assert await wait_until(lambda: term.venues["feed"].synced.is_set(), 5)
        await ws.set_watchlist("majors", ["SOL-PERP", "BTC-PERP"])
        assert await ws.get_watchlist("majors") == ["SOL-PERP", "BTC-PERP"]
        await feed.stop_venues()
        assert await wait_until(lambda: not book_mismatches(feed.session, term), 10)
        source = term.venues["feed"]
        shown = _shown(
            [
                feed.publisher,
                feed.publisher.status_line(),
                source,
                ws,
                client(url),
                *term.cache.status.values(),
                *(r.getMessage() for r in caplog.records),
            ]
        )
        assert "desk" in shown  # the user name is fine to show
        _assert_hidden(shown, PASSWORD)
    finally:
        await term.stop()
        await feed.close()
        await ws.close()


async def test_wrong_password_is_reported_without_it(acl_server, caplog):
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-pa55word"
    url = _desk_url(acl_server.port, wrong)
    src = FeedSource(url, "acl", connect_timeout=0.3)
    with pytest.raises(VenueError) as err:
        await src.connect()
    assert "refused the credentials" in str(err.value)
    ws = Workspace(url, "acl", "bob")
    with pytest.raises(WorkspaceError) as ws_err:
        await ws.set_watchlist("x", ["SOL-PERP"])
    pub = FeedPublisher(url, "acl")
    pub._redis = client(url)
    with pytest.raises(redis.exceptions.RedisError) as raw:
        await pub._restore()
    shown = _shown(
        [err.value, ws_err.value, describe_error(raw.value, url), src, pub, ws, *(r.getMessage() for r in caplog.records)]
    )
    _assert_hidden(shown, wrong)
    await src.close()
    await ws.close()
    await pub.close()


async def test_user_without_permission_is_told_so(acl_server):
    admin = redis.Redis(port=acl_server.port, password=ADMIN_PW)
    admin.execute_command("ACL", "SETUSER", "viewer", "on", ">v1ewer-pw", "~other:*", "+@all")
    admin.close()
    ws = Workspace(f"redis://viewer:v1ewer-pw@127.0.0.1:{acl_server.port}/0", "acl", "carol")
    with pytest.raises(WorkspaceError, match="lacks a permission") as err:
        await ws.get_watchlist("majors")
    assert "v1ewer-pw" not in str(err.value)
    await ws.close()


def _make_certs(d: Path) -> tuple[Path, Path, Path]:
    ca_key, ca, key, csr, crt = (d / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = d / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")

    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca), "-days", "2", "-subj", "/CN=QuantDesk test CA")
    run("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost")
    run("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext))  # fmt: skip
    return ca, crt, key


async def test_rediss_with_a_private_ca(redis_server, tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    ca, crt, key = _make_certs(tmp_path)
    tls_args = ["--tls-cert-file", str(crt), "--tls-key-file", str(key), "--tls-ca-cert-file", str(ca),
                "--tls-auth-clients", "no", "--requirepass", "tls-Pa55"]  # fmt: skip
    srv = redis_server(tls_args, tls=True)
    url = f"rediss://:tls-Pa55@127.0.0.1:{srv.port}/0?ssl_ca_certs={ca}"
    ws = Workspace(url, "tls", "alice")
    await ws.save_layout("desk", 'panes = ["depth", "funding"]\n')
    assert await ws.get_layout("desk") == 'panes = ["depth", "funding"]\n'
    await ws.close()
    feed = await FeedRig(url, "tls", rate=500).start()
    term = redis_session(url, "tls")
    try:
        await term.start()
        await feed.stop_venues()
        assert await wait_until(lambda: not book_mismatches(feed.session, term), 10)
    finally:
        await term.stop()
        await feed.close()
    # Without the CA the server's certificate is not trusted, and the error says so.
    untrusted = Workspace(f"rediss://:tls-Pa55@127.0.0.1:{srv.port}/0", "tls", "alice")
    with pytest.raises(WorkspaceError) as err:
        await untrusted.layouts()
    assert "tls-Pa55" not in str(err.value)
    assert "certificate" in str(err.value).lower() or "ssl" in str(err.value).lower()
    await untrusted.close()


UNENCODED = [f"S3cr3t{ch}T41l" for ch in "#@/?"]  # a password pasted into a URL as is


@pytest.mark.parametrize("password", UNENCODED)
def test_a_password_with_an_unencoded_url_character_is_never_shown(password):
    url = f"redis://desk:{password}@cache.internal:6380/2"
    assert redact(url) == "redis://desk:***@cache.internal:6380/2"
    for part in ("S3cr3t", "T41l"):
        assert part not in redact(url)
    with pytest.raises(RedisURLError, match="percent-encode") as err:
        validate(url)
    assert "S3cr3t" not in str(err.value) and "T41l" not in str(err.value)
    assert "T41l" not in describe_error(ConnectionError(f"Error connecting with password {password}"), url)


@pytest.mark.parametrize("password", UNENCODED)
def test_config_validate_and_feed_never_print_such_a_password(password, tmp_path):
    url = f"redis://desk:{password}@127.0.0.1:6379/0"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[redis]\nurl = "{url}"\n')
    checked = _quantdesk("config", "validate", "--config", str(cfg))
    fed = _quantdesk("feed", "--redis", url, "--duration", "0.2", "--quiet")
    for proc in (checked, fed):
        assert proc.returncode != 0
        out = proc.stdout + proc.stderr
        assert "percent-encode" in out, out
        assert "S3cr3t" not in out and "T41l" not in out, out


def _quantdesk(*args: str):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "quantdesk.cli", *args], capture_output=True, text=True, timeout=60)
