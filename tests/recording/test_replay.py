"""``quantdesk replay``: a recorded sim session played back twice gives the
same events and the same screens at the same event; the keys pause, step and
change the speed; pacing follows recorded time; a cut recording plays up to
the cut and says where it stopped."""

from __future__ import annotations

import asyncio

import pytest

from quantdesk.console.app import QuantDeskApp
from quantdesk.console.help_screen import help_table
from quantdesk.venues.recording.times import format_ns, parse_moment
from quantdesk.venues.replay.source import ReplaySource
from quantdesk.venues.session import Session

from support.app import notes, status_text
from support.console_app import make_app as make_sim_app
from support.recording import Tape, playback, record_sim_session, replay_session
from support.timers import ManualTimers

SIZE = (200, 50)
CHECKPOINTS = (1, 500, 2_600)


@pytest.fixture(autouse=True)
def user_dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


@pytest.fixture
async def recording(tmp_path):
    path = tmp_path / "desk.qdrec"
    recorded, _ = await record_sim_session(path, events=3_000)
    return path, recorded


async def play_through(path, checkpoints=CHECKPOINTS):
    """Replay ``path`` in the App, paused, step by step: the events the bus
    carried, the screen at each checkpoint, the final screen, and the cache."""
    session = replay_session(path, paused=True)
    tape = Tape(session)
    app = QuantDeskApp(session)
    screens = {}
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        p = playback(session)
        done = 0
        for k in (*checkpoints, 10**9):
            done += p.step(k - done)
            app.frame()
            await pilot.pause()
            screens[k if k < 10**9 else "final"] = app.export_screenshot()
        assert p.progress().finished
        cache = session.cache
        state = (
            {k: (b.seq, b.sorted_bids(), b.sorted_asks()) for k, b in cache.books.items()},
            dict(cache.orders), dict(cache.positions), dict(cache.accounts), list(cache.fills),
            {k: list(q) for k, q in cache.trades.items()}, dict(cache.funding), dict(cache.oracle),
        )
        ended = p.progress().ended
        bar = status_text(app)
    return tape.events, screens, state, ended, bar


def render_text(renderable) -> str:
    import io

    from rich.console import Console

    console = Console(width=120, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()


def state_of(events):
    from quantdesk.core.cache import MarketCache

    cache = MarketCache()
    for ev in events:
        cache.on_event("", ev)
    return (
        {k: (b.seq, b.sorted_bids(), b.sorted_asks()) for k, b in cache.books.items()},
        dict(cache.orders), dict(cache.positions), dict(cache.accounts), list(cache.fills),
        {k: list(q) for k, q in cache.trades.items()}, dict(cache.funding), dict(cache.oracle),
    )


async def test_two_replays_give_the_recorded_events_and_the_same_screens(recording):
    path, recorded = recording
    first = await play_through(path)
    second = await play_through(path)
    events, screens, state, ended, bar = first
    assert events == recorded  # every event, in the order it was received
    assert second[0] == events
    assert second[1] == screens  # the same screen at the same event, and at the end
    assert state == state_of(recorded) == second[2]  # the recorded session's books, orders, fills...
    assert "rest-1" in state[1] and any(f.order_id == "take-1" for f in state[4])
    assert ended == f"end of the recording: {len(recorded):,} events, up to {format_ns(last_ts(path))}"
    assert f"replay ■ end {len(recorded):,}/{len(recorded):,}" in bar
    assert screens[1] != screens[500] != screens["final"]


def last_ts(path) -> int:
    from quantdesk.venues.recording.reader import Recording

    return Recording(path).scan().last_ts


async def test_a_cut_recording_replays_up_to_the_cut_and_says_where_it_stopped(recording, tmp_path):
    path, recorded = recording
    raw = path.read_bytes()
    cut = tmp_path / "cut.qdrec"
    cut.write_bytes(raw[: len(raw) - 100])
    session = replay_session(cut, paused=True)
    tape = Tape(session)
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        p = playback(session)
        n = p.step(10**9)
        app.frame()
        await pilot.pause()
        assert 0 < n < len(recorded) and tape.events == recorded[:n]
        progress = p.progress()
        assert progress.finished and progress.cut
        (note,) = [m for m in notes(app) if "stops early" in m]
        assert note.startswith("the recording stops early: cut.qdrec ends inside a block at byte ")
        assert note.endswith(f"replayed {n:,} events, up to {format_ns(session.clock())}")
        assert f"replay ■ cut {n:,}/" in status_text(app)


async def test_the_replay_keys_pause_step_and_change_speed(recording):
    path, _ = recording
    session = replay_session(path, paused=True)
    app = QuantDeskApp(session)
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        p = playback(session)
        await pilot.press("full_stop", "full_stop", "full_stop")
        assert p.progress().played == 3 and p.progress().paused
        assert "replay ⏸ 3/" in status_text(app)
        await pilot.press("plus", "plus", "minus", "minus", "minus")
        assert p.progress().speed == 0.5
        await pilot.press("space")
        assert not p.progress().paused
        await pilot.press("space")
        assert p.progress().paused
        await pilot.press("question_mark")
        await pilot.pause()
        assert "REPLAY" in render_text(help_table(app.keymap_model, app.screen.offered))


async def test_in_a_replay_plus_and_minus_set_its_speed_even_with_the_chart_focused(recording):
    path, _ = recording
    session = replay_session(path, paused=True)
    app = QuantDeskApp(session, panes=["chart"])
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        chart = app.pane_of_type("chart")
        chart.focus()
        speed = playback(session).progress().speed
        await pilot.press("plus")
        assert playback(session).progress().speed == speed * 2 and chart.timeframe == "15m"


async def test_outside_a_replay_the_replay_keys_do_nothing_and_are_not_offered():
    app = make_sim_app()
    async with app.run_test(size=SIZE) as pilot:
        await app.session_started.wait()
        await pilot.press("space", "full_stop", "plus")
        assert not app.replay.active and not notes(app)
        flat = render_text(help_table(app.keymap_model, app.offers))
        assert "REPLAY" not in flat and "step one event" not in flat and "next market" in flat
        from quantdesk.console.palette import palette_entries

        assert not [name for name, _, _ in palette_entries(app) if name.startswith("replay:")]


async def test_playing_follows_recorded_time_times_the_speed(recording):
    path, recorded = recording
    timers = ManualTimers()
    source = ReplaySource(path, speed=3, timers=timers)  # 11 s recorded: 3 x 3 s fit
    session = Session([source], source.clock)
    tape = Tape(session)
    first = source.clock()
    await session.start()
    try:
        for second in range(1, 4):
            await timers.advance(0.5)
            await timers.advance(0.5)
            target = first + second * 3 * 10**9
            for _ in range(2_000):  # the replay publishes in slices, yielding between them
                if source.clock() == target:
                    break
                await asyncio.sleep(0)
            now = source.clock()
            assert now == target  # recorded time moves with the (manual) wall clock times the speed
            published = tape.events
            assert published and max(e.ts for e in published if hasattr(e, "ts")) <= now
            rest = recorded[len(published) :]
            assert rest and getattr(rest[0], "ts", 0) > now - 10**9  # nothing due is held back
    finally:
        await session.stop()


async def test_from_applies_everything_before_it_at_once_then_waits(recording):
    path, recorded = recording
    source = ReplaySource(path, start=parse_moment("+5s"), paused=True, timers=ManualTimers())
    session = Session([source], source.clock)
    tape = Tape(session)
    first = source.clock()
    await session.start()
    try:
        for _ in range(100):
            if source.clock() == first + 5 * 10**9:
                break
            await asyncio.sleep(0)
        assert source.clock() == first + 5 * 10**9
        n = len(tape.events)
        assert 0 < n < len(recorded) and tape.events == recorded[:n]
        assert recorded[n].ts >= first + 5 * 10**9 > recorded[n - 1].ts
        assert session.cache.has_full_state()
    finally:
        await session.stop()


def test_the_replay_screen(snap_compare, recording):
    path, _ = recording

    async def run_before(pilot) -> None:
        app = pilot.app
        await app.session_started.wait()
        playback(app.session).step(2_000)
        app.frame()
        await pilot.pause()

    assert snap_compare(QuantDeskApp(replay_session(path, paused=True)), terminal_size=SIZE, run_before=run_before)
