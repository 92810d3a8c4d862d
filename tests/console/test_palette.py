"""The palette is QuantDesk's own: its commands only, and its list always
belongs to the text typed so far, so Enter never runs a stale result."""

from __future__ import annotations

import pytest
from textual.command import CommandList

from quantdesk.console.palette import DeskPalette
from quantdesk.console.panes.depth import DepthPane

from support.app import start
from support.console_app import SIZE, make_app

CATEGORIES = {"news", "focus", "market", "venue", "app", "order", "orders", "risk", "layout", "theme", "pane", "positions",
              "fills", "trades", "depth", "view", "workspace", "funding", "spreads", "health", "help", "chart"}


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


def listed(app) -> list[str]:
    options = app.screen.query_one(CommandList)
    return [options.get_option_at_index(i).hit.text or "" for i in range(options.option_count)]


async def test_the_palette_lists_only_quantdesks_commands():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, DeskPalette)
        names = listed(app)
        assert len(names) > 20
        for textual_builtin in ("Keys", "Screenshot", "Theme", "Quit", "Maximize", "Minimize"):
            assert not any(n.startswith(textual_builtin) for n in names), textual_builtin
        assert all(n.split(":")[0] in CATEGORIES for n in names), [n for n in names if n.split(":")[0] not in CATEGORIES]
        # Searching for a Textual theme by name finds only QuantDesk's themes.
        await pilot.press(*"theme")
        assert all(n.startswith("theme: ") or ":" in n for n in listed(app))
        assert not any(n.lower().startswith("change theme") for n in listed(app))


async def test_results_follow_every_key_and_enter_runs_the_one_for_the_text_typed():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("ctrl+p", *"mrk btc")
        assert listed(app)[0] == "market: BTC-PERP"  # within the turn of the last key, no wait
        # Retyped and submitted at once: Enter runs the ETH result, not the BTC one still shown before.
        await pilot.press("backspace", "backspace", "backspace", *"eth", "enter")
        await pilot.pause()
        assert app.query_one(DepthPane).market == "ETH-PERP"


async def test_a_command_line_command_typed_in_one_burst_runs():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("ctrl+p", *"ETH-PERP DEPTH", "enter")
        await pilot.pause()
        assert app.query_one(DepthPane).market == "ETH-PERP"
