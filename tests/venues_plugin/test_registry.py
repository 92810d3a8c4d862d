"""The venue registry with the built-in venues: who builds which venue, who can
trade, where each config section lives, and that a simulated start never
loads the Solana stack."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from quantdesk.config.settings import load_config
from quantdesk.core.venue import TradingVenue, Venue
from quantdesk.venues import registry
from quantdesk.venues.session import simulated_session
from quantdesk.wiring.sources import build_session
from quantdesk.wiring.trading import open_paper_trading

SRC = Path(__file__).resolve().parents[2] / "src"


def test_built_in_venues_register_through_entry_points():
    sim, drift = registry.spec_for("sim"), registry.spec_for("drift")
    assert registry.spec_for("velocity") is drift  # two deployments, one package
    assert sim.package == "quantdesk.venues.sim" and drift.package == "quantdesk.venues.drift"
    assert sim.simulated and sim.top_level and sim.section_key("sim") == ("sim",)
    assert not drift.simulated and drift.section_key("velocity") == ("venues", "velocity")
    assert drift.inspect is not None and drift.order_desk is not None and sim.inspect is None


def test_every_venue_speaks_the_one_interface_and_knows_its_package():
    session = simulated_session(paused=True)
    assert [v.id for v in session.venues.values()] == ["sim-drift", "sim-jup"]
    for v in session.venues.values():
        assert isinstance(v, Venue) and v.health is None
        assert registry.spec_of(v) is registry.spec_for("sim")


async def test_sim_venues_trade_on_paper_and_a_keyless_drift_venue_stays_read_only(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text('[venues.drift]\nrpc_urls = ["http://127.0.0.1:9"]\n', encoding="utf-8")
    settings = load_config(cfg, environ={})
    assert [name for _, name, _ in registry.configured(settings)] == ["drift"]
    drift_session = build_session(settings)
    assert list(drift_session.venues) == ["drift"]
    [drift] = drift_session.venues.values()
    assert registry.spec_of(drift) is registry.spec_for("drift") and isinstance(drift, Venue)
    trading = open_paper_trading(drift_session, tmp_path / "drift.sqlite3")
    try:
        assert trading.router.executors == {}  # no keypair: watching only, nothing to trade with
        assert not trading.router.can_trade("drift")
    finally:
        trading.close()

    sim_session = build_session(settings, source="sim")
    paper = open_paper_trading(sim_session, tmp_path / "sim.sqlite3")
    try:
        assert set(paper.router.executors) == {"sim-drift", "sim-jup"}
        assert all(isinstance(ex, TradingVenue) for ex in paper.router.executors.values())
    finally:
        paper.close()


def test_sim_section_flags_and_defaults_reach_the_simulated_venues(tmp_path):
    cfg = tmp_path / "config.toml"
    cfg.write_text("[sim]\nseed = 11\nrate = 50\n", encoding="utf-8")
    settings = load_config(cfg, environ={})
    session = build_session(settings)
    assert {v.seed for v in session.venues.values()} == {11}  # type: ignore[attr-defined]
    assert sum(v.rate for v in session.venues.values()) == pytest.approx(50)  # type: ignore[attr-defined]
    forced = build_session(settings, seed=3, rate=10.0)
    assert {v.seed for v in forced.venues.values()} == {3}  # type: ignore[attr-defined]


def test_listing_markets_needs_no_connection():
    markets = registry.list_markets(None)
    venues = {m.venue for m in markets}
    assert {"sim-drift", "sim-jup", "drift", "velocity"} <= venues
    assert [m.symbol for m in registry.list_markets(None, "velocity")] == ["SOL-PERP", "BTC-PERP", "ETH-PERP"]


def test_a_simulated_start_never_imports_the_solana_stack(tmp_path):
    code = (
        "import sys; import quantdesk.cli\n"
        "from quantdesk.config.settings import load_config\n"
        "from quantdesk.wiring.sources import build_session\n"
        "from quantdesk.wiring.trading import open_paper_trading\n"
        "import tempfile, pathlib\n"
        "s = build_session(load_config(environ={}))\n"
        "t = open_paper_trading(s, pathlib.Path(tempfile.mkdtemp()) / 'j.sqlite3'); t.close()\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'driftpy', 'solana', 'solders', 'anchorpy'})\n"
        "print(','.join(heavy) or 'none')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env.update(PYTHONPATH=str(SRC), XDG_CONFIG_HOME=str(tmp_path / "config"), XDG_DATA_HOME=str(tmp_path / "data"))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120, check=False)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "none"
