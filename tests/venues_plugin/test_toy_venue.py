"""A venue is one folder plus one entry point: a throwaway ``toy`` venue,
installed from ``plugin/`` (its package and a dist-info with the entry point),
shows up in config validation, ``show markets`` and the running terminal,
without any QuantDesk module naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from quantdesk.venues import registry

PLUGIN = Path(__file__).parent / "plugin"
SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture
def toy_installed():
    """The toy distribution on sys.path for this test only."""
    sys.path.insert(0, str(PLUGIN))
    registry.reload()
    try:
        yield
    finally:
        sys.path.remove(str(PLUGIN))
        for name in [m for m in sys.modules if m == "toy_venue" or m.startswith("toy_venue.")]:
            del sys.modules[name]
        registry.reload()


def cli(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m quantdesk.cli ...`` with the toy distribution installed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTDESK_")}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(PLUGIN)])
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["XDG_DATA_HOME"] = str(tmp_path / "data")
    return subprocess.run(
        [sys.executable, "-m", "quantdesk.cli", *argv], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_the_registry_finds_built_in_venues_and_the_toy_the_same_way(toy_installed):
    assert {"sim", "drift", "velocity", "toy"} <= set(registry.names())
    toy = registry.spec_for("toy")
    assert toy.package == "toy_venue" and not toy.simulated and toy.trading is None
    with pytest.raises(registry.RegistryError, match="no venue named 'nope'; known venues: .*toy"):
        registry.spec_for("nope")


def test_without_the_plugin_the_toy_is_unknown():
    assert "toy" not in registry.names()


def test_no_registered_venues_says_how_to_repair_the_installation(tmp_path):
    found = registry.discover([str(tmp_path)])  # a path with no distributions at all
    assert found == ()
    with pytest.raises(registry.RegistryError, match=r"reinstall with `pip install \.`"):
        registry.require(found)


def test_config_validate_checks_the_toy_section_with_key_and_fix(tmp_path):
    good = write(tmp_path, '[venues.toy]\nsymbol = "TOY-PERP"\nlevels = 5\n')
    ok = cli(tmp_path, "config", "validate", "--config", str(good))
    assert ok.returncode == 0, ok.stderr + ok.stdout

    bad = write(tmp_path, "[venues.toy]\nlevels = 0\nlevls = 2\n")
    res = cli(tmp_path, "config", "validate", "--config", str(bad))
    out = res.stdout + res.stderr
    assert res.returncode != 0
    assert f"{bad}:2: venues.toy.levels: input should be greater than or equal to 1, got 0" in out
    assert "e.g. levels = 3" in out  # the fix: the documented default
    assert 'venues.toy.levls: unknown key (did you mean "levels"?)' in out
    assert "Traceback" not in out


def test_show_markets_lists_the_toy_with_the_built_in_venues(tmp_path):
    cfg = write(tmp_path, '[venues.toy]\nsymbol = "ZAP-PERP"\n')
    res = cli(tmp_path, "show", "markets", "--json", "--config", str(cfg))
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    by_venue = {}
    for r in rows:
        by_venue.setdefault(r["venue"], []).append(r)
    assert [(r["market"], r["kind"], r["enabled"]) for r in by_venue["toy"]] == [("ZAP-PERP", "clob", True)]
    assert {"sim-drift", "sim-jup", "drift", "velocity"} <= set(by_venue)
    assert not any(r["enabled"] for r in by_venue["sim-drift"])  # a live venue is on: the simulation stands aside

    one = cli(tmp_path, "show", "markets", "--venue", "toy", "--config", str(cfg))
    assert one.returncode == 0, one.stderr
    assert "ZAP-PERP" in one.stdout and "SOL-PERP" not in one.stdout


async def test_the_running_terminal_shows_the_toy_market(toy_installed, tmp_path, monkeypatch):
    from quantdesk.config.settings import load_config
    from quantdesk.console.app import QuantDeskApp
    from quantdesk.console.panes.depth import DepthPane
    from quantdesk.console.panes.funding import FundingPane
    from quantdesk.wiring.sources import build_session

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    settings = load_config(write(tmp_path, "[venues.toy]\nprice = 20\n"), environ={})
    session = build_session(settings)
    assert list(session.venues) == ["toy"]  # configured: the toy runs, the simulation does not
    app = QuantDeskApp(session)
    app.configure_console(settings)
    async with app.run_test(size=(160, 45)) as pilot:
        await app.session_started.wait()
        await pilot.pause()
        depth = app.query_one(DepthPane)
        depth.select(venue="toy", market="TOY-PERP")
        app.frame()
        await pilot.pause()
        ladder = "\n".join(depth.render_line(y).text for y in range(depth.size.height))
        assert "TOY-PERP" in ladder and "20.001" in ladder and "19.999" in ladder  # best ask, best bid
        assert "20.003" in ladder and "20.004" not in ladder  # the three levels [venues.toy] defaults to
        funding = app.query_one(FundingPane)
        rows = "\n".join(funding.render_line(y).text for y in range(funding.size.height))
        assert "TOY-PERP" in rows
