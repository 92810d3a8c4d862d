"""`quantdesk run` builds paper trading from the configuration: journal path,
risk limits and the dead-man's switch."""

from __future__ import annotations

import pytest

from quantdesk.commands import run as run_command
from quantdesk.config.settings import load_config
from quantdesk.core.model import OrderIntent
from quantdesk.wiring.trading import paper_trading_from_settings

from support.app import paused_session


@pytest.fixture(autouse=True)
def clean_env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    for name in list(__import__("os").environ):
        if name.startswith("QUANTDESK_"):
            monkeypatch.delenv(name)


async def test_config_sets_journal_limits_and_dead_man(tmp_path):
    journal = tmp_path / "trades" / "journal.sqlite3"
    cfg = tmp_path / "config.toml"
    cfg.write_text(f'[journal]\npath = "{journal}"\n[risk]\nmax_order_notional = 100\n[dead_man]\nenabled = true\n')
    session = paused_session()
    trading = paper_trading_from_settings(session, load_config(cfg, environ={}))
    try:
        assert trading.dead_man is True
        assert trading.journal.path == journal and journal.exists()
        await session.start()
        session.advance(500)
        ack = await trading.router.submit(OrderIntent("sim-drift", "SOL-PERP", "buy", "market", 10**9))
        assert not ack.ok and "max_order_notional" in ack.message
        await session.stop()
    finally:
        trading.close()


def test_defaults_use_the_data_dir_journal_and_no_dead_man(tmp_path):
    session = paused_session()
    trading = run_command._paper_trading(session)
    try:
        assert trading is not None and trading.dead_man is False
        assert trading.journal.path == tmp_path / "data" / "quantdesk" / "journal.sqlite3"
    finally:
        trading.close()


def test_a_bad_risk_section_stops_before_the_screen(tmp_path, monkeypatch, capsys):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[risk]\nmax_order_notional = -5\n")
    monkeypatch.setenv("QUANTDESK_CONFIG", str(cfg))
    assert run_command._paper_trading(paused_session()) is None
    err = capsys.readouterr().err
    assert "risk.max_order_notional" in err and "Traceback" not in err
