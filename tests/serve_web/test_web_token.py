"""``serve web``: the page and the console's WebSocket need the token; each
tab is a console process of its own, up to the tab limit."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from quantdesk.cli import main
from quantdesk.commands.serve_web import tab_command
from quantdesk.serve.web.server import COOKIE
from support.web_desk import browser, open_tab


async def test_without_the_token_nothing_is_served(web):
    async with aiohttp.ClientSession() as http:
        for path in ("/", "/?token=wrong", "/static/js/textual.js", "/ws"):
            async with http.get(web.base + path) as r:
                assert r.status == 403, path
                assert "URL printed by `quantdesk serve web`" in await r.text()
                assert COOKIE not in r.cookies
        with pytest.raises(aiohttp.WSServerHandshakeError) as err:
            await http.ws_connect(web.base + "/ws")
        assert err.value.status == 403
    assert web.tabs == 0


async def test_the_page_loads_with_the_token_and_then_the_cookie_carries_it(web):
    async with browser() as http:
        async with http.get(web.url()) as r:
            assert r.status == 200
            page = await r.text()
            cookie = r.cookies[COOKIE]
        assert web.base.replace("http", "ws") + "/ws" in page and "QuantDesk" in page
        assert cookie.value == web.options.token and cookie["httponly"] and cookie["samesite"] == "Strict"
        async with http.get(web.base + "/") as r:  # no token in the URL now: the cookie
            assert r.status == 200
        async with http.get(web.base + "/static/js/textual.js") as r:
            assert r.status == 200


async def test_a_tab_runs_its_console_and_one_past_the_limit_is_refused(web):
    async with browser() as http:
        ws = await open_tab(http, web)
        try:
            assert web.tabs == 1
            with pytest.raises(aiohttp.WSServerHandshakeError) as err:
                await http.ws_connect(web.base + "/ws")
            assert err.value.status == 503
            assert web.refused_full == 1
        finally:
            await ws.close()


async def test_no_log_line_carries_a_token(web, caplog):
    caplog.set_level(logging.DEBUG)
    async with browser() as http:
        async with http.get(web.base + "/?token=guessed-secret-1") as r:
            assert r.status == 403
        async with http.get(web.url()) as r:
            assert r.status == 200
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "refused" in logged
    assert "guessed-secret-1" not in logged and web.options.token not in logged


def test_serve_web_refuses_bad_flags_with_a_message(tmp_path, capsys):
    assert main(["serve", "web", "--max-tabs", "0"]) == 2
    assert "--max-tabs must be between 1 and" in capsys.readouterr().err
    short = tmp_path / "token"
    short.write_text("abc\n")
    assert main(["serve", "web", "--token-file", str(short)]) == 2
    assert "shorter than 16 characters" in capsys.readouterr().err
    assert main(["serve", "web", "--token-file", str(tmp_path / "none")]) == 2
    assert "cannot read --token-file" in capsys.readouterr().err


def test_each_tab_runs_this_quantdesk_on_the_same_source_and_config():
    cmd = tab_command("redis://127.0.0.1:6379/0", "/srv/desk config.toml")
    assert cmd.endswith("-m quantdesk.cli run --source redis://127.0.0.1:6379/0 --config '/srv/desk config.toml'")
