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


def test_start_up_slows_the_collector_once(thresholds: None) -> None:
    gc.set_threshold(700, 10, 10)
    collector._before = None
    collector.start_up()
    assert gc.get_threshold() == (collector.GC_GEN0, collector.GC_GEN1, collector.GC_GEN2)
    gc.set_threshold(900, 10, 10)
    collector.start_up()  # a second console in the process changes nothing
    assert gc.get_threshold() == (900, 10, 10)


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle, as widgets and their parents make


def test_a_settled_heap_is_left_out_of_collections_until_a_console_gives_its_cycles_back(thresholds: None) -> None:
    import weakref

    try:
        node = Node()
        gone = weakref.ref(node)
        collector.settle()
        assert gc.get_freeze_count() > 0
        del node
        gc.collect()
        assert gone() is not None  # frozen: full collections do not walk the settled heap
        collector.reclaim()
        assert gone() is None  # the ended console's cycles are collected
        assert gc.get_freeze_count() > 0  # and the rest is frozen again
    finally:
        gc.unfreeze()


def test_start_up_never_makes_a_slower_collector_faster(thresholds: None) -> None:
    gc.set_threshold(50_000, 10, 500)
    collector._before = None
    collector.start_up()
    assert gc.get_threshold() == (50_000, collector.GC_GEN1, 500)



def test_a_process_serving_many_consoles_collects_its_young_objects_in_small_steps(thresholds: None) -> None:
    collector.serve_many()
    gen0, gen1, _gen2 = gc.get_threshold()
    assert gen0 == collector.GC_GEN0 and gen1 == collector.SHARED_GEN1
