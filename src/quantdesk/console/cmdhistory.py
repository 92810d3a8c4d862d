"""Command-line history kept across runs: a small text file, one command a
line, newest last, without duplicates and bounded in length."""

from __future__ import annotations

import os
from pathlib import Path

from quantdesk.config.paths import user_data_dir

DEFAULT_SIZE = 500


def default_history_path() -> Path:
    return user_data_dir() / "history"


class CommandHistory:
    def __init__(self, path: Path | None = None, max_size: int = DEFAULT_SIZE, *, persist: bool = True) -> None:
        self.path = path if path is not None else default_history_path()
        self.max_size = max(1, max_size)
        self.persist = persist  # False: in memory only (an App embedded or under test)
        self.entries: list[str] = []
        if persist:
            self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return  # no history yet, or unreadable: start empty rather than fail the console
        for line in lines:
            self._remember(line)

    def _remember(self, command: str) -> bool:
        command = " ".join(command.split())
        if not command:
            return False
        if command in self.entries:
            self.entries.remove(command)
        self.entries.append(command)
        del self.entries[: max(0, len(self.entries) - self.max_size)]
        return True

    def add(self, command: str) -> None:
        """Remember ``command`` as the newest entry and save the file."""
        if self._remember(command):
            self.save()

    def save(self) -> None:
        if not self.persist:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text("".join(e + "\n" for e in self.entries), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # history is a convenience; a read-only home must not stop trading

    def cursor(self) -> HistoryCursor:
        return HistoryCursor(self.entries)


class HistoryCursor:
    """Up/down walking through history for one edit session; ``prefix`` keeps
    to entries starting with what was typed before the first step."""

    def __init__(self, entries: list[str]) -> None:
        self._entries = list(entries)
        self._pos = len(self._entries)  # one past the newest: the line being typed
        self._draft = ""

    def older(self, current: str) -> str:
        if self._pos == len(self._entries):
            self._draft = current
        for i in range(self._pos - 1, -1, -1):
            if self._entries[i].upper().startswith(self._draft.upper()):
                self._pos = i
                return self._entries[i]
        return current

    def newer(self, current: str) -> str:
        for i in range(self._pos + 1, len(self._entries)):
            if self._entries[i].upper().startswith(self._draft.upper()):
                self._pos = i
                return self._entries[i]
        self._pos = len(self._entries)
        return self._draft
