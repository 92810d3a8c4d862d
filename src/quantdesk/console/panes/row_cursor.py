"""A row cursor over a list whose rows come and go (orders, positions).

The cursor follows a row's key, not its index, so a new order arriving above
the selected one never moves the selection to a different order.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

CURSOR_CSS_CLASS = "pane--cursor"


class RowCursor:
    def __init__(self) -> None:
        self.key: Hashable | None = None

    def pick(self, keys: Sequence[Hashable]) -> int | None:
        """The selected row's index in ``keys`` (the first row when the
        selected one is gone); None for an empty list."""
        if not keys:
            self.key = None
            return None
        if self.key not in keys:
            self.key = keys[0]
        return list(keys).index(self.key)

    def move(self, keys: Sequence[Hashable], step: int) -> None:
        i = self.pick(keys)
        if i is None:
            return
        self.key = keys[max(0, min(len(keys) - 1, i + step))]
