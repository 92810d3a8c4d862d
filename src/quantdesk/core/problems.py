"""Problems found in a user's files, reported all at once.

Every problem names where it is (file and key, or line and column), what is
wrong and what to do; ``ProblemsError`` carries the whole list so a loader can
keep going after the first mistake and the trader fixes everything in one go.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    source: str  # file path, or "environment", "flags", "[keys] in config"
    key: str  # dotted key, or "" when the whole source is at fault
    message: str  # what is wrong
    fix: str = ""  # what to do about it

    def __str__(self) -> str:
        where = f"{self.source}: {self.key}" if self.key else self.source
        text = f"{where}: {self.message}"
        return f"{text} ({self.fix})" if self.fix else text


class ProblemsError(Exception):
    """One or more problems; ``str()`` lists them all, one per line."""

    def __init__(self, problems: Iterable[Problem], what: str = "configuration") -> None:
        self.problems = list(problems)
        self.what = what
        super().__init__(self.render())

    def render(self) -> str:
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in the {self.what}:"
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """' did you mean "x"?' fix text, or a list of what is allowed."""
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if close:
        return f'did you mean "{close[0]}"?'
    if not choices:
        return "remove it"
    if len(choices) <= 12:
        return "expected one of: " + ", ".join(choices)
    return "remove it or check the spelling"
