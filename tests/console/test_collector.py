"""The collector's pace around a console's start-up (quantdesk.console.collector)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from quantdesk.console import collector


@pytest.fixture
def thresholds() -> Iterator[None]:
    saved, before = gc.get_threshold(), collector._before
    try:
        yield
    finally:
        gc.set_threshold(*saved)
        collector._before = before


def test_start_up_slows_the_collector_and_a_shared_process_gets_its_pace_back(thresholds: None) -> None:
    gc.set_threshold(700, 10, 10)
    collector._before = None
    collector.start_up()
    assert gc.get_threshold() == (collector.GC_GEN0, collector.GC_GEN1, collector.GC_GEN2)
    collector.start_up()  # a second console in the process changes nothing
    collector.settle(own_process=False)
    assert gc.get_threshold() == (700, 10, 10)


def test_start_up_never_makes_a_slower_collector_faster(thresholds: None) -> None:
    gc.set_threshold(50_000, 10, 500)
    collector._before = None
    collector.start_up()
    assert gc.get_threshold() == (50_000, collector.GC_GEN1, 500)

