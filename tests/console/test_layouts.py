"""Layout files: shipped ones, validation of the grid and names, saving."""

from __future__ import annotations

import pytest

from quantdesk.console.layouts import check_layout, layout_names, load_layout, load_layout_file, parse_layout, save_layout
from quantdesk.core.problems import ProblemsError

MARKETS = {"sim-drift": ["SOL-PERP", "BTC-PERP", "ETH-PERP"], "sim-jup": ["SOL-PERP", "BTC-PERP", "ETH-PERP"]}


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path / "config" / "quantdesk"


def test_shipped_layouts():
    assert {"overview", "scalper", "carry"} <= set(layout_names())
    overview = load_layout("overview")
    assert (overview.rows, overview.columns) == (3, 2)
    assert [p.type for p in overview.ordered_panes()] == ["depth", "funding", "spreads", "positions", "orders"]
    scalper = load_layout("scalper")
    depth = scalper.panes[0]
    assert depth.type == "depth" and depth.row_span == scalper.rows  # the tall ladder
    assert {p.type for p in scalper.panes} == {"depth", "trades", "orders", "fills"}
    carry = load_layout("carry")
    assert {p.type for p in carry.panes} == {"funding", "spreads"}
    assert all(p.market is None for p in carry.panes)  # every market
    for name in ("overview", "scalper", "carry"):
        assert check_layout(load_layout(name), MARKETS) == []


def _problems(data):
    with pytest.raises(ProblemsError) as info:
        parse_layout(data, "desk.toml")
    return [str(p) for p in info.value.problems]


def test_bad_pane_entries_all_reported():
    msgs = _problems({"name": "x", "panes": [{"type": "depht"}, {"type": "funding", "colour": 1, "row": -1}]})
    assert (
        "desk.toml: panes[1].type: unknown pane type 'depht'; choose one of: alerts, chart, depth, fills, fundhist, funding, health, "
        'insights, news, orders, positions, spreads, trades, workspace (did you mean "depth"?)'
    ) in msgs
    assert any(m.startswith('desk.toml: panes[2].colour: unknown key (did you mean "column"?)') for m in msgs)
    assert any("panes[2].row: input should be greater than or equal to 0" in m for m in msgs)


def test_grid_overlap_and_overflow():
    (msg,) = _problems({"name": "x", "rows": 1, "columns": 2, "panes": [
        {"type": "depth", "column": 0, "column_span": 2}, {"type": "funding", "column": 1}]})
    assert "pane 2 (funding) overlaps pane 1 (depth) at row 0, column 1" in msg
    (msg,) = _problems({"name": "x", "rows": 1, "columns": 1, "panes": [{"type": "depth", "row_span": 2}]})
    assert "reaches past the 1x1 grid" in msg
    (msg,) = _problems({"name": "x", "columns": 2, "column_widths": [1], "panes": [{"type": "depth"}]})
    assert "column_widths needs 2" in msg
    assert any("panes" in m for m in _problems({"name": "x", "panes": []}))


def test_unknown_market_and_venue():
    layout = parse_layout({"name": "x", "panes": [
        {"type": "depth", "market": "SOL-PERPS", "venue": "sim-drift"},
        {"type": "funding", "venue": "sim-jupp", "column": 1}]}, "x.toml")
    msgs = [str(p) for p in check_layout(layout, MARKETS)]
    assert msgs == [
        'layout x: panes[1].market: unknown market \'SOL-PERPS\' on sim-drift (did you mean "SOL-PERP"?)',
        'layout x: panes[2].venue: unknown venue \'sim-jupp\' (did you mean "sim-jup"?)',
    ]


def test_save_and_reload_round_trip(user_dirs):
    layout = load_layout("scalper")
    path = save_layout(layout, "my-desk")
    assert path == user_dirs / "layouts" / "my-desk.toml"
    again = load_layout("my-desk")
    assert again.model_dump() == {**layout.model_dump(), "name": "my-desk"}
    assert "my-desk" in layout_names()
    # A saved layout with a shipped name replaces it.
    save_layout(load_layout("carry"), "overview")
    assert {p.type for p in load_layout("overview").panes} == {"funding", "spreads"}
    with pytest.raises(ValueError, match="not a usable layout name"):
        save_layout(layout, "../escape")


def test_unknown_layout_name_and_bad_file(tmp_path):
    with pytest.raises(ProblemsError, match='did you mean "scalper"'):
        load_layout("scalpr")
    bad = tmp_path / "bad.toml"
    bad.write_text("rows = [\n")
    with pytest.raises(ProblemsError, match="not valid TOML"):
        load_layout_file(bad)
