"""Consoles served from one process share its core: when their repaints would
need more than it has, every console repaints the feed less often, and a key
is still painted as it is handled."""

from __future__ import annotations

import pytest

from quantdesk.serve.ssh.pacing import CORE_SHARE, MIN_FPS, FrameBudget
from support.ssh_client import Terminal
from support.wait import until


def test_the_rate_aims_the_process_at_its_share_of_the_core():
    budget = FrameBudget(max_fps=20)
    assert budget.next_fps(20, CORE_SHARE) == pytest.approx(20)  # on target: no change
    assert budget.next_fps(20, 2 * CORE_SHARE) == pytest.approx(10)  # twice the share: half the frames
    assert budget.next_fps(10, CORE_SHARE / 2) == pytest.approx(20)  # room again: back up


def test_the_rate_moves_by_at_most_a_step_and_stays_within_bounds():
    budget = FrameBudget(max_fps=20)
    assert budget.next_fps(16, 10 * CORE_SHARE) == pytest.approx(8)  # overload: halve, not a tenth at once
    assert budget.next_fps(4, 0.01) == pytest.approx(8)  # idle: double, not a jump to the top
    assert budget.next_fps(MIN_FPS, 50.0) == MIN_FPS  # every screen still moves
    assert budget.next_fps(20, 0.0) == 20  # never above the configured fps


class Counter:
    def __init__(self, start: float) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value


async def test_a_loaded_server_repaints_every_console_less_often_and_keys_stay_prompt(desk):
    alice = await Terminal.open(desk.port, desk.keys["alice"])
    bob = await Terminal.open(desk.port, desk.keys["bob"])
    desk.terminals += [alice, bob]
    await alice.shows("DEPTH SOL-PERP")
    await bob.shows("DEPTH SOL-PERP")
    pacer = desk.server.pacer
    pacer.cpu, pacer.wall = Counter(10.0), Counter(100.0)
    pacer._mark = (pacer.wall(), pacer.cpu())

    def window(busy: float) -> float:
        pacer.wall.value += 1.0
        pacer.cpu.value += busy
        return pacer.step()

    apps = [ch.console.app for ch in desk.server.channels]
    assert len(apps) == 2
    assert window(1.0) == pytest.approx(20 * CORE_SHARE)  # a whole core busy: 60% of the frames
    assert all(app.frame_rate == pytest.approx(12) for app in apps)
    await until(lambda: all(app.frame_timer._interval == pytest.approx(1 / 12) for app in apps), what="the new timers")

    # The feed still reaches both screens, and a key paints at once.
    frames = [app.frames for app in apps]
    desk.shared.advance(50)
    await until(lambda: all(app.frames > f for app, f in zip(apps, frames)), timeout=10)
    alice.send("]")
    await alice.shows("DEPTH BTC-PERP")
    assert "DEPTH SOL-PERP" in bob.text()  # bob's screen is his own

    assert window(0.2) == pytest.approx(20)  # room again: back to the configured rate
    assert all(app.frame_rate == pytest.approx(20) for app in apps)

