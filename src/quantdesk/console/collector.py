"""The garbage collector's pace in a process that shows a console.

Importing and building the console (Textual, its styles, the panes, the
config models) allocates about a hundred thousand long-lived objects and
almost no garbage. At the interpreter's default thresholds the collector
rescans that growing heap some 150 times before the first frame, about a
tenth of a cold start; at the running terminal's pace it does so a few times.
"""

from __future__ import annotations

import gc

GC_GEN0, GC_GEN1, GC_GEN2 = 7_000, 20, 100  # collector thresholds while the terminal runs
# Where one process serves many consoles (serve ssh), the young generation
# holds all of their survivors: a generation-1 pass every 20 young ones walks
# over a hundred thousand objects and stalls every trader's keys by ~170 ms.
SHARED_GEN1 = 3

_before: tuple[int, int, int] | None = None  # the thresholds before ``start_up``, once it ran


def start_up() -> None:
    """Collect at the terminal's pace from now on (the console package calls it
    on import, so its own imports profit); ``settle`` decides what follows."""
    global _before
    if _before is not None:
        return
    _before = gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, GC_GEN0), max(gen1, GC_GEN1), max(gen2, GC_GEN2))


def serve_many() -> None:
    """This process serves many consoles: collect their young objects in
    smaller steps (see SHARED_GEN1)."""
    start_up()
    gen0, _gen1, gen2 = gc.get_threshold()
    gc.set_threshold(gen0, SHARED_GEN1, gen2)


def settle() -> None:
    """Once the terminal is up: keep the slower pace and leave the long-lived
    widget, style and market objects out of full collections, so a 50k msg/s
    feed's collections never stall a keystroke by tens of milliseconds.

    A process serving many consoles (``serve ssh``) needs it most: twenty
    consoles' objects rescanned stall every trader's keys by hundreds of
    milliseconds. What a console that ended leaves in reference cycles is
    given back by ``reclaim``."""
    start_up()
    gc.freeze()


def reclaim() -> None:
    """A console sharing the process has ended: collect what it left (its
    widgets form cycles the frozen heap would keep), then freeze the rest again."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
