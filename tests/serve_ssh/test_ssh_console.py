"""Traders connect to a real ``serve ssh`` with asyncssh and read the screen
their terminal would show (a VT emulator fed by the channel)."""

from __future__ import annotations

import re

import asyncssh
import pytest

from quantdesk.venues.mirror import MirrorVenue
from support.ssh_client import Terminal, client_key
from support.wait import until

PANE_TITLES = ("DEPTH SOL-PERP @ sim-drift", "FUNDING & BORROW", "CROSS-VENUE SPREADS", "POSITIONS")


def colour_codes(raw: bytes) -> set[int]:
    """The SGR colour parameters (16-colour, 256 and 24-bit introducers) in ``raw``."""
    codes = {int(p) for m in re.finditer(rb"\x1b\[([0-9;]*)m", raw) for p in m.group(1).split(b";") if p}
    return {c for c in codes if 30 <= c <= 49 or 90 <= c <= 107}


async def connect(desk, who: str = "alice", **kw) -> Terminal:
    t = await Terminal.open(desk.port, desk.keys[who], **kw)
    desk.terminals.append(t)
    return t


async def test_the_console_arrives_with_its_panes(desk):
    t = await connect(desk)
    for title in PANE_TITLES:
        await t.shows(title)
    await t.shows("145.2")  # the shared feed's SOL-PERP book is on the ladder
    assert [ch.user for ch in desk.server.channels] == ["alice"]


async def test_a_resize_lays_the_console_out_again(desk):
    t = await connect(desk, columns=120, rows=40)
    await t.shows("Level size")
    top = t.line_with("DEPTH")
    assert top.rstrip().endswith("╮") and len(top.rstrip()) == 120
    t.resize(80, 24)
    await until(lambda: len(t.line_with("DEPTH").rstrip()) == 80, what="the 80-column layout")
    await until(lambda: "Level size" not in t.text(), what="the ladder dropping its size bars at 80 columns")
    assert "POSITIONS" in t.text()


async def test_colour_depth_follows_the_clients_terminal(desk):
    deep = await connect(desk, "alice", term="xterm-256color", env={"COLORTERM": "truecolor"})
    eight = await connect(desk, "bob", term="xterm-256color")
    sixteen = await connect(desk, "alice", term="xterm")
    mono = await connect(desk, "bob", term="dumb")
    for t in (deep, eight, sixteen, mono):
        await t.shows("FUNDING & BORROW")
    assert b"38;2;" in deep.raw
    assert b"\x1b[38;5;" in eight.raw and b"38;2;" not in eight.raw
    assert b"38;5;" not in sixteen.raw and b"38;2;" not in sixteen.raw and colour_codes(sixteen.raw)
    assert not colour_codes(mono.raw)
    assert "CROSS-VENUE SPREADS" in mono.text()  # the text is all there, without colour


async def test_an_unknown_key_is_refused(desk):
    with pytest.raises(asyncssh.PermissionDenied):
        await Terminal.open(desk.port, client_key("mallory"))
    assert not desk.server.channels


async def test_passwords_and_keyboard_interactive_are_refused(desk):
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.connect(
            "127.0.0.1", desk.port, username="alice", password="alice", client_keys=None,
            known_hosts=None, agent_path=None, preferred_auth="password,keyboard-interactive",
        )


async def test_two_traders_each_have_their_own_desk_over_one_feed(desk):
    alice = await connect(desk, "alice")
    bob = await connect(desk, "bob")
    await alice.shows("DEPTH SOL-PERP")
    await bob.shows("DEPTH SOL-PERP")
    alice.send("]")  # alice moves her ladder to the next market; bob's stays
    await alice.shows("DEPTH BTC-PERP @ sim-drift")
    assert "DEPTH SOL-PERP @ sim-drift" in bob.text()
    # one set of venues: each console's session mirrors the shared one
    assert len(desk.shared.venues) == 2
    sessions = [ch.console.session for ch in desk.server.channels]
    assert len(sessions) == 2 and sessions[0] is not sessions[1]
    assert all(isinstance(v, MirrorVenue) for s in sessions for v in s.venues.values())
    # the feed moves: both screens follow it
    before_a, before_b = alice.text(), bob.text()
    desk.shared.advance(3000)
    await until(lambda: alice.text() != before_a and bob.text() != before_b, what="both screens updating")
    book = desk.shared.cache.book("sim-drift", "SOL-PERP")
    bid = f"{book.best_bid()[0] / 1e6:,.3f}"
    await bob.shows(bid)


async def test_a_dropped_client_leaves_the_other_undisturbed(desk):
    alice = await connect(desk, "alice")
    bob = await connect(desk, "bob")
    await alice.shows("DEPTH SOL-PERP")
    await bob.shows("DEPTH SOL-PERP")
    alice.conn.abort()  # the link dies mid-session
    await until(lambda: [ch.user for ch in desk.server.channels] == ["bob"], what="alice's console to end")
    before = bob.text()
    desk.shared.advance(3000)
    await until(lambda: bob.text() != before, what="bob's screen to keep updating")
    bob.send("]")
    await bob.shows("DEPTH BTC-PERP @ sim-drift")


async def test_ctrl_c_is_a_key_not_the_end_of_the_server(desk):
    t = await connect(desk)
    await t.shows("DEPTH SOL-PERP")
    t.send(b"\x03")
    t.send("]")
    await t.shows("DEPTH BTC-PERP")
    assert not t.closed.is_set()
    other = await connect(desk, "bob")
    await other.shows("DEPTH SOL-PERP")


async def test_quitting_ends_only_that_session(desk):
    alice = await connect(desk, "alice")
    bob = await connect(desk, "bob")
    await alice.shows("DEPTH")
    await bob.shows("DEPTH")
    alice.send("q")
    assert await alice.ended() == 0
    assert [ch.user for ch in desk.server.channels] == ["bob"]
    bob.send("]")
    await bob.shows("DEPTH BTC-PERP")



async def test_consoles_ending_in_any_order_leave_the_servers_streams_alone(desk):
    import sys

    out, err = sys.stdout, sys.stderr
    alice = await connect(desk, "alice")
    bob = await connect(desk, "bob")
    await alice.shows("DEPTH")
    await bob.shows("DEPTH")
    alice.send("q")  # the first to start ends first
    await alice.ended()
    bob.send("q")
    await bob.ended()
    assert sys.stdout is out and sys.stderr is err
