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

_before: tuple[int, int, int] | None = None  # the thresholds before ``start_up``


def start_up() -> None:
    """Collect at the terminal's pace from now on (the console package calls it
    on import, so its own imports profit); ``settle`` decides what follows."""
    global _before
    if _before is not None:
        return
    _before = gen0, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(gen0, GC_GEN0), max(gen1, GC_GEN1), max(gen2, GC_GEN2))


def settle(own_process: bool) -> None:
    """Once the terminal is up. A terminal with the process to itself keeps the
    slower pace and leaves its long-lived widget, style and market objects out
    of full collections, so a 50k msg/s feed's collections never stall a
    keystroke by tens of milliseconds. A process that serves many consoles
    goes back to the thresholds it had: a frozen console's objects would
    outlive it."""
    global _before
    if own_process:
        start_up()
        gc.freeze()
    elif _before is not None:
        gc.set_threshold(*_before)
        _before = None
