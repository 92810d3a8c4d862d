"""The keyboard-first console in the real App: command line, palette, help,
themes that persist, layouts, startup scripts and keymaps from the config."""

from __future__ import annotations

import pytest

from quantdesk.config.settings import load_config
from quantdesk.console.layouts import load_layout
from quantdesk.console.prefs import load_prefs
from quantdesk.console.command_line import CommandLine
from quantdesk.console.help_screen import HelpScreen, help_table
from quantdesk.console.layout_grid import LayoutGrid
from quantdesk.console.palette import palette_entries
from quantdesk.console.panes.depth import DepthPane
from quantdesk.console.panes.funding import FundingPane

from support.console_app import SIZE, make_app, type_text
from support.app import start


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return tmp_path


async def test_colon_opens_the_command_line_and_a_command_runs():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        line = app.query_one(CommandLine)
        assert not line.display or not line.is_open
        await pilot.press("colon")
        assert line.is_open and app.focused is line.input
        await type_text(pilot, "btc-perp depth")
        await pilot.press("enter")
        await pilot.pause()
        depth = app.query_one(DepthPane)
        assert not line.is_open
        assert app.focused is depth and depth.market == "BTC-PERP"


async def test_tab_completes_and_shows_choices():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("colon")
        await type_text(pilot, "sol")
        await pilot.press("tab")
        assert line_value(app) == "SOL-PERP "
        await type_text(pilot, "b")
        await pilot.press("tab")
        assert line_value(app) == "SOL-PERP BUY "
        await type_text(pilot, "2 ")
        await pilot.press("tab")  # many choices: they are listed, nothing inserted
        assert line_value(app) == "SOL-PERP BUY 2 "
        hint = str(app.query_one("#cmd-hint").render())
        assert "@" in hint and "MKT" in hint and "POST" in hint


def line_value(app) -> str:
    return app.query_one(CommandLine).input.value


async def test_a_bad_command_points_at_the_wrong_word():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("colon")
        await type_text(pilot, "SOL-PERP DEPHT")
        await pilot.press("enter")
        await pilot.pause()
        line = app.query_one(CommandLine)
        assert line.is_open  # the text stays to be fixed
        assert line.error is not None and (line.error.start, line.error.end) == (9, 14)
        shown = str(app.query_one("#cmd-error").render()).splitlines()
        # "  " is the prompt's width, so the carets sit under DEPHT
        assert shown[0] == "  " + " " * 9 + "^^^^^"
        assert 'did you mean "DEPTH"' in "\n".join(shown)
        await pilot.press("escape")
        assert not line.is_open and isinstance(app.focused, DepthPane)


async def test_history_is_kept_across_runs(user_dirs):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        for cmd in ("ETH-PERP DEPTH", "THEME amber"):
            await pilot.press("colon")
            await type_text(pilot, cmd)
            await pilot.press("enter")
            await pilot.pause()
    app2 = make_app()
    async with app2.run_test(size=SIZE) as pilot:
        await start(app2, pilot)
        await pilot.press("colon")
        await pilot.press("up")
        assert line_value(app2) == "THEME amber"
        await pilot.press("up")
        assert line_value(app2) == "ETH-PERP DEPTH"
        await pilot.press("down", "down")
        assert line_value(app2) == ""


async def test_theme_switch_is_remembered_unless_the_config_sets_one(user_dirs):
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        assert app.theme == "dark"
        await app.execute(parse_cmd(app, "THEME amber"))
        assert app.theme == "amber"
        assert app.get_css_variables()["bid"] == "#ffcc4d"
        await pilot.press("ctrl+t")  # theme.next
        assert app.theme == "high-contrast"
    assert load_prefs()["theme"] == "high-contrast"
    again = make_app(settings=load_config(environ={}))
    assert again.theme == "high-contrast"
    pinned = make_app(settings=load_config(environ={"QUANTDESK_UI__THEME": "amber"}))
    assert pinned.theme == "amber"


def render_text(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(width=120, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def parse_cmd(app, text):
    from quantdesk.console.cmdline import parse

    return parse(text, app.command_context())


async def test_layouts_switch_save_and_reload(user_dirs):
    app = make_app(layout="scalper")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        grid = app.query_one(LayoutGrid)
        assert grid.layout_model.name == "scalper"
        depth = app.query_one(DepthPane)
        assert depth.styles.row_span == grid.layout_model.rows == 3  # every row of the scalper grid
        assert (depth.venue, depth.market) == ("sim-drift", "SOL-PERP")
        assert depth.region.height > SIZE[1] * 0.8  # the tall ladder
        await pilot.press("right_square_bracket")  # now on BTC
        assert await app.execute(parse_cmd(app, "LAYOUT SAVE my-desk"))
        saved = user_dirs / "config" / "quantdesk" / "layouts" / "my-desk.toml"
        assert saved.exists()
        assert load_layout("my-desk").panes[0].market == "BTC-PERP"

        await app.execute(parse_cmd(app, "LAYOUT carry"))
        await pilot.pause()
        assert [type(p) for p in app.panes] == [FundingPane, type(app.query_one("#spreads"))]
        assert not app.query(DepthPane)
        assert isinstance(app.focused, FundingPane)
        await app.execute(parse_cmd(app, "LAYOUT my-desk"))
        await pilot.pause()
        assert app.query_one(DepthPane).market == "BTC-PERP"
        await pilot.press("ctrl+l")  # layout.next
        await pilot.pause()
        assert app.layout_name != "my-desk"


async def test_pane_command_without_that_pane_says_so():
    app = make_app(layout="carry")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        assert not await app.execute(parse_cmd(app, "SOL-PERP DEPTH"))
        await pilot.pause()
        assert any("has no depth pane" in n.message for n in app._notifications)


async def test_help_screen_lists_active_keys_by_group():
    settings = load_config(environ={"QUANTDESK_KEYS__MARKET__NEXT": "n"})
    app = make_app(settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        flat = render_text(help_table(app.keymap_model))
        assert "FOCUS" in flat and "MARKET" in flat and "RISK" in flat and "COMMAND LINE" in flat
        assert any(ln.strip().startswith("n ") and "next market" in ln for ln in flat.splitlines())
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)
        await pilot.press("n")  # the remapped key works
        assert app.query_one(DepthPane).market == "BTC-PERP"


async def test_palette_lists_actions_markets_venues_layouts_and_themes():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        names = [name for name, _help, _cb in palette_entries(app)]
        for expected in ("focus: next pane", "risk: kill switch: cancel all and block new orders", "market: BTC-PERP",
                         "venue: sim-jup", "layout: scalper", "theme: amber"):
            assert expected in names
        assert len([n for n in names if n.split(":")[0] in {"focus", "market", "venue", "app", "order", "orders", "risk", "layout", "theme"}]) >= 20


async def test_palette_fuzzy_search_runs_the_choice():
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "thm ambr")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.theme == "amber"
        # A whole command-line command typed into the palette runs too.
        await pilot.press("ctrl+p")
        await type_text(pilot, "ETH-PERP DEPTH")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert app.query_one(DepthPane).market == "ETH-PERP"


async def test_startup_script_runs_then_stops_at_the_first_bad_line():
    script = "# desk setup\nTHEME amber\nBTC-PERP DEPTH\n\nSOL-PERP DEPHT\nTHEME high-contrast\n"
    app = make_app(script=("desk.qd", script))
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.pause()
        assert app.theme == "amber"
        assert app.query_one(DepthPane).market == "BTC-PERP"
        assert app.script_error is not None and app.script_error.line == 5
        assert str(app.script_error).startswith("desk.qd:5:10: ")
        assert any("desk.qd:5:10" in n.message for n in app._notifications)


async def test_order_commands_without_a_trading_connection_send_nothing():
    app = make_app()  # no router: read-only market data
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("colon", *"SOL-PERP BUY 2 @ 145.20 POST", "enter")
        await pilot.pause()
        assert any("Nothing was sent" in n.message for n in app._notifications)


async def test_layout_cells_and_gaps_land_where_the_file_says(tmp_path):
    from quantdesk.console.layouts import parse_layout, save_layout
    from quantdesk.console.layout_grid import Filler

    layout = parse_layout({"name": "corner", "rows": 2, "columns": 2, "panes": [
        {"type": "funding", "row": 0, "column": 1},
        {"type": "depth", "row": 1, "column": 0, "column_span": 2, "market": "ETH-PERP", "venue": "sim-jup"}]}, "x")
    save_layout(layout)
    app = make_app(layout="corner")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        depth, funding = app.query_one(DepthPane), app.query_one(FundingPane)
        filler = app.query_one(Filler)
        assert filler.region.x == 0 and filler.region.y == 0  # the empty top-left cell
        assert funding.region.x > SIZE[0] // 3 and funding.region.y == 0
        assert depth.region.x == 0 and depth.region.y > 0 and depth.region.width > SIZE[0] * 0.9
        assert (depth.venue, depth.market) == ("sim-jup", "ETH-PERP")


async def test_a_layout_naming_an_unknown_market_is_refused_with_a_message():
    from quantdesk.console.layouts import parse_layout, save_layout

    save_layout(parse_layout({"name": "odd", "panes": [{"type": "depth", "market": "DOGE-PERP"}]}, "x"))
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        assert not await app.execute(parse_cmd(app, "LAYOUT odd"))
        await pilot.pause()
        assert any("unknown market 'DOGE-PERP'" in n.message for n in app._notifications)
        assert len(app.panes) == 4  # still the screen it was


async def test_vim_keymap_from_the_config():
    from textual.command import CommandPalette

    app = make_app(settings=load_config(environ={"QUANTDESK_UI__KEYMAP": "vim"}))
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.press("j")
        assert app.query_one(DepthPane).market == "BTC-PERP"
        await pilot.press("l")
        assert app.query_one(DepthPane).venue == "sim-jup"
        await pilot.press("slash")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


async def test_a_key_clash_is_shown_when_the_console_opens():
    app = make_app(settings=load_config(environ={"QUANTDESK_KEYS__ORDER__BUY": "q"}))
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await pilot.pause()
        assert any("key 'q' is also bound to 'app.quit'" in n.message for n in app._notifications)
        await pilot.press("q")  # no longer quits: order.buy took it
        assert app.is_running


def test_every_catalogue_action_has_a_binding_with_its_id():
    from quantdesk.core import actions
    from quantdesk.console.app import QuantDeskApp

    from quantdesk.console.panes import catalogue

    bound = {b.id for _key, b in QuantDeskApp._merge_bindings()}
    assert {a.id for a in actions.ACTIONS if a.scope == "app"} <= bound
    classes = [catalogue.pane_class(pane_id) for pane_id in catalogue.ids()]
    pane_bound = {b.id for cls in classes for _key, b in cls._merge_bindings()}
    assert {a.id for a in actions.ACTIONS if a.scope != "app"} <= pane_bound


async def test_every_palette_action_runs_something():
    # Each "category: action" entry reaches a binding; none answers "not available".
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        for binding_id in ("focus.funding", "market.next", "layout.next", "theme.next"):
            await app.run_action_id(binding_id)
            await pilot.pause()
        assert not any("is not available" in n.message for n in app._notifications)
        assert app.theme == "amber" and app.layout_name == "carry"  # the next after dark / overview


async def test_a_pane_action_from_the_palette_acts_in_that_pane():
    app = make_app(layout="scalper")
    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        await app.run_action_id("orders.modify")  # focuses the orders pane, which has no order to modify
        await pilot.pause()
        assert getattr(app.focused, "pane_type", None) == "orders"
        await app.run_action_id("positions.close")  # no positions pane in this layout
        await pilot.pause()
        assert any("not available in this layout" in n.message for n in app._notifications)
