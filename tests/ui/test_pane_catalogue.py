"""The pane catalogue is the one list of panes: layouts, the command line, the
palette and help all enumerate exactly it, and every entry can be mounted."""

from __future__ import annotations

import ast
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.cmdline import CommandContext, ParseError, ShowPane, parse
from quantdesk.console.help_screen import help_table
from quantdesk.console.keymap import load_keymap
from quantdesk.console.layout_grid import MissingPane
from quantdesk.console.layouts import parse_layout
from quantdesk.console.palette import palette_entries
from quantdesk.console.panes import catalogue
from quantdesk.console.panes.base import Pane
from quantdesk.core.problems import ProblemsError

from support.app import pane_text, start

SRC = Path(__file__).resolve().parents[2] / "src" / "quantdesk"
CTX = CommandContext(markets=["SOL-PERP", "BTC-PERP"], venues=["sim-drift"])


def every_pane_layout():
    ids = catalogue.ids()
    columns = 3
    rows = -(-len(ids) // columns)
    panes = [{"type": pane_id, "row": n // columns, "column": n % columns} for n, pane_id in enumerate(ids)]
    return parse_layout({"name": "every-pane", "columns": columns, "rows": rows, "panes": panes}, "test")


async def test_every_catalogued_pane_mounts_in_a_layout_and_draws(session):
    app = QuantDeskApp(session)
    app.layout_model = every_pane_layout()
    async with app.run_test(size=(240, 60)) as pilot:
        await start(app, pilot)
        assert not app.query(MissingPane)
        shown = {p.pane_type: p for p in app.query(Pane)}
        assert list(shown) == catalogue.ids()
        for entry in catalogue.entries():
            pane = shown[entry.id]
            assert isinstance(pane, entry.load())
            assert pane.border_title.startswith(entry.title)
            assert "could not be drawn" not in pane_text(pane)


def test_each_entry_names_a_class_of_its_own_type():
    for entry in catalogue.entries():
        assert entry.load().pane_type == entry.id
        assert entry.help and entry.title and entry.words


def test_a_layout_accepts_exactly_the_catalogued_types():
    for pane_id in catalogue.ids():
        assert parse_layout({"name": "x", "panes": [{"type": pane_id}]}, "x.toml").panes[0].type == pane_id
    with pytest.raises(ProblemsError) as err:
        parse_layout({"name": "x", "panes": [{"type": "tape"}]}, "x.toml")
    (problem,) = err.value.problems
    assert problem.key == "panes[1].type"
    assert problem.message == "unknown pane type 'tape'; choose one of: " + ", ".join(sorted(catalogue.ids()))


def test_the_command_line_opens_every_pane_by_its_words_and_by_id():
    for entry in catalogue.entries():
        for word in entry.words:
            assert parse(f"SOL-PERP {word.lower()}", CTX) == ShowPane(entry.id, "SOL-PERP")
        assert parse(f"PANE {entry.id}", CTX) == ShowPane(entry.id)
        assert parse(ShowPane(entry.id, "BTC-PERP").to_text(), CTX) == ShowPane(entry.id, "BTC-PERP")
    assert parse("pane trades sol-perp", CTX) == ShowPane("trades", "SOL-PERP")
    with pytest.raises(ParseError) as err:
        parse("PANE trade", CTX)
    assert 'did you mean "trades"?' in str(err.value)
    with pytest.raises(ParseError) as err:
        parse("PANE", CTX)
    assert "missing pane type" in str(err.value) and "workspace" in str(err.value)


async def test_the_palette_lists_every_pane_and_opens_it(session):
    app = QuantDeskApp(session, panes=["depth", "trades"])
    async with app.run_test(size=(200, 50)) as pilot:
        await start(app, pilot)
        entries = {name: callback for name, _help, callback in palette_entries(app) if name.startswith("pane: ")}
        assert list(entries) == [f"pane: {pane_id}" for pane_id in catalogue.ids()]
        await entries["pane: trades"]()
        await pilot.pause()
        assert getattr(app.focused, "pane_type", None) == "trades"


def test_help_lists_every_pane_with_its_word():
    out = StringIO()
    Console(file=out, width=200, color_system=None).print(help_table(load_keymap()))
    text = out.getvalue()
    panes = text[text.rindex("PANES") :]  # the section, not the mention above it
    listed = [line.split()[1] for line in panes.splitlines()[1:] if line.strip()]
    assert listed == catalogue.ids()
    for entry in catalogue.entries():
        assert f"{entry.word} " in panes and entry.help in panes


def _literal_names(node: ast.AST) -> set[str]:
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        items = node.elts
    elif isinstance(node, ast.Dict):
        items = [*node.keys, *node.values]
    else:
        return set()
    return {i.value for i in items if isinstance(i, ast.Constant) and isinstance(i.value, str)}


# Lists that share words with pane ids but name other things.
NOT_PANE_LISTS = {
    ("commands/show.py", frozenset({"depth", "funding", "spreads", "trades", "insights", "news"})),  # what `quantdesk show` prints
    ("sync/postgres.py", frozenset({"fills", "orders", "positions"})),  # the tables synced to Postgres
}


def test_no_other_list_of_pane_names_remains_in_the_code():
    ids = set(catalogue.ids())
    found = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC).as_posix()
        if rel == "console/panes/catalogue.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = frozenset(_literal_names(node) & ids)
            if len(names) >= 3 and (rel, names) not in NOT_PANE_LISTS:
                found.append(f"{rel}:{node.lineno}: {sorted(names)}")  # type: ignore[attr-defined]
    assert found == []


def test_the_catalogue_imports_no_pane_and_no_textual():
    code = "import sys, quantdesk.console.panes.catalogue; print(sorted(m for m in sys.modules if m.startswith(('textual', 'quantdesk.console.panes.'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "['quantdesk.console.panes.catalogue']"
