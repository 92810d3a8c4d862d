"""A layout saved in one terminal opens by name in another terminal of the team;
a bad team layout is refused with a message and the screen stays as it was."""

from __future__ import annotations


import redis

from quantdesk.console.cmdline import complete
from quantdesk.console.layout_grid import LayoutGrid
from quantdesk.console.palette import palette_entries

from support.team_app import SIZE, run, terminal
from support.app import start
from support.wait import wait_until


def grid_panes(app) -> list[tuple[str, str | None, int, int]]:
    layout = app.query_one(LayoutGrid).current_layout()
    return sorted((p.type, p.market, p.row, p.column) for p in layout.panes)


async def test_a_layout_saved_in_one_terminal_opens_by_name_in_the_other(redis_url, ns, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "alice-config"))
    alice, bob = terminal(redis_url, ns, "alice", tmp_path), terminal(redis_url, ns, "bob", tmp_path)
    async with alice.run_test(size=SIZE) as pa, bob.run_test(size=SIZE) as pb:
        await start(alice, pa)
        await start(bob, pb)
        assert await wait_until(lambda: bob.team.workspace.loaded and alice.team.workspace.loaded, 3)

        assert await run(alice, "LAYOUT scalper")
        assert await run(alice, "BTC-PERP")  # the focused depth pane now shows BTC: not what scalper ships
        saved = grid_panes(alice)
        assert ("depth", "BTC-PERP", 0, 0) in saved
        assert await run(alice, "LAYOUT SAVE desk-btc")
        # Bob's terminal is on another machine: alice's saved file is not in his config dir.
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "bob-config"))
        assert await wait_until(lambda: "desk-btc" in bob.team.workspace.layout_texts, 5.0)
        assert await run(bob, "LAYOUT desk-btc")
        await pb.pause()
        assert bob.layout_name == "desk-btc"
        assert grid_panes(bob) == saved

        # Tab completion and the palette offer it; the palette says it is the team's.
        ctx = bob.command_context()
        assert "desk-btc" in ctx.team_layouts and "desk-btc" not in ctx.layouts
        assert "desk-btc" in complete("LAYOUT desk", ctx)
        names = [name for name, _help, _cb in palette_entries(bob)]
        assert "layout: desk-btc (team)" in names


async def test_a_bad_team_layout_is_refused_and_the_current_layout_stays(redis_url, ns, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "bob-config"))
    # Written by hand (or by another tool) straight into the workspace: valid TOML, not a valid layout.
    r = redis.Redis.from_url(redis_url)
    try:
        r.hset(f"qd:{{{ns}}}:ws:layouts", "broken", 'name = "broken"\n\n[[panes]]\ntype = "depht"\n')
    finally:
        r.close()
    bob = terminal(redis_url, ns, "bob", tmp_path)
    async with bob.run_test(size=SIZE) as pb:
        await start(bob, pb)
        assert await wait_until(lambda: bob.team.workspace.loaded, 3)
        assert await run(bob, "LAYOUT overview")
        before = grid_panes(bob)
        assert "broken" in bob.command_context().team_layouts

        assert not await run(bob, "LAYOUT broken")
        await pb.pause()
        shown = "\n".join(str(n.message) for n in bob._notifications)
        assert "team layout broken" in shown and "unknown pane type 'depht'" in shown, shown
        assert bob.layout_name == "overview"
        assert grid_panes(bob) == before
