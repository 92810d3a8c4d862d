"""``alerts.toml``: the trader's own alert rules, in the config directory.

    # one table per rule
    [[alert]]
    rule = "SOL-PERP PRICE > 180"
    note = "breakout"          # optional: shown with the alert
    id = "sol-180"             # optional: what ALERT DEL takes; made from the rule when absent

The file is read at start and again whenever it changes, so an edit takes
effect in a running terminal. ``ALERT ...`` typed on the command line (a
local rule) is appended to it and ``ALERT DEL`` takes it out again; both
edit only that rule's lines, so comments and the other rules stay as they
were. A bad entry is reported with its line, what is wrong and an example,
and skipped; the file is never rewritten because of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quantdesk.core.alerts import Rule, RuleError, parse_rule, rule_text
from quantdesk.core.problems import Problem, did_you_mean

HEADER = (
    "# QuantDesk alert rules: one [[alert]] table per rule (see `HELP ALERT`).\n"
    "#   rule = \"SOL-PERP PRICE > 180\"   note = \"...\" (optional)   id = \"...\" (optional)\n"
)
KEYS = ("rule", "note", "id")
MAX_NOTE = 500
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_TABLE = re.compile(r"^\s*\[\[?\s*([^\[\]]+?)\s*\]\]?\s*(#.*)?$")


@dataclass(frozen=True, slots=True)
class FileRule:
    id: str
    rule: Rule
    note: str
    line: int  # of its [[alert]] header, counted from 1


def rule_id(rule: Rule) -> str:
    """A stable id made from the rule itself: the same rule keeps its id (and
    its fired state) across restarts, and cannot be added twice."""
    return hashlib.sha1(rule_text(rule).encode()).hexdigest()[:6]


class RulesFileError(Exception):
    """The rules file could not be written; the message says what to do."""


class RulesFile:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RulesFile({str(self.path)!r})"

    def stamp(self) -> tuple[int, int] | None:
        """(mtime, size) of the file, None when absent: changes when it is edited."""
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_mtime_ns, st.st_size

    # -- reading -----------------------------------------------------------------
    def load(self) -> tuple[list[FileRule], list[Problem]]:
        """Every usable rule, and a problem for each entry that is not."""
        text, problems = self._read()
        if text is None:
            return [], problems
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            return [], [Problem(str(self.path), "", f"not valid TOML: {exc}", "fix the syntax; text values need quotes")]
        lines = _header_lines(text)
        out: list[FileRule] = []
        seen: dict[str, int] = {}
        for key in data:
            if key != "alert":
                problems.append(Problem(str(self.path), key, "unknown key", "write each rule as an [[alert]] table"))
        entries = data.get("alert", [])
        if not isinstance(entries, list):
            return [], [*problems, Problem(str(self.path), "alert", "must be [[alert]] tables", 'e.g. [[alert]] rule = "SOL-PERP PRICE > 180"')]
        for n, entry in enumerate(entries):
            line = lines[n] if n < len(lines) else 0
            where = f"{self.path}:{line}" if line else str(self.path)
            found = _entry(entry, where, f"alert[{n + 1}]", problems)
            if found is None:
                continue
            rule, note, given = found
            rid = given or rule_id(rule)
            if rid in seen:
                problems.append(Problem(where, f"alert[{n + 1}]", f"id {rid!r} is used again (first on line {seen[rid]})",
                                        "give it another id, or remove the repeated rule"))  # fmt: skip
                continue
            seen[rid] = line
            out.append(FileRule(rid, rule, note, line))
        return out, problems

    def _read(self) -> tuple[str | None, list[Problem]]:
        try:
            return self.path.read_text(encoding="utf-8"), []
        except FileNotFoundError:
            return None, []
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or "not UTF-8 text"
            return None, [Problem(str(self.path), "", f"cannot read the file: {why}", "check its permissions")]

    # -- writing -----------------------------------------------------------------
    def add(self, rule: Rule, note: str = "") -> FileRule:
        """Append ``rule`` (its id made from it) and return it as read back."""
        rid = rule_id(rule)
        text, _ = self._read()
        text = text if text is not None else HEADER
        block = f"\n[[alert]]\nid = {_quote(rid)}\nrule = {_quote(rule_text(rule))}\n"
        if note:
            block += f"note = {_quote(note[:MAX_NOTE])}\n"
        if text and not text.endswith("\n"):
            text += "\n"
        self._write(text + block)
        line = len((text + "\n").splitlines()) + 1
        return FileRule(rid, rule, note[:MAX_NOTE], line)

    def remove(self, rid: str) -> bool:
        """Take the rule with id ``rid`` out; False when the file has none."""
        rules, _ = self.load()
        target = next((r for r in rules if r.id == rid), None)
        text, _ = self._read()
        if target is None or text is None or not target.line:
            return False
        lines = text.splitlines(keepends=True)
        start = target.line - 1
        end = start + 1
        while end < len(lines) and not _TABLE.match(lines[end]):
            end += 1
        # Blank and comment lines just above the next table belong to that table.
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].lstrip().startswith("#")):
            end -= 1
        while start > 0 and not lines[start - 1].strip():  # the blank lines that set this table apart
            start -= 1
        self._write("".join(lines[:start] + lines[end:]))
        return True

    def _write(self, text: str) -> None:
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            raise RulesFileError(f"cannot save {self.path}: {exc.strerror}; check the directory is writable") from None


def _header_lines(text: str) -> list[int]:
    """Line numbers of the ``[[alert]]`` headers, in order."""
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        m = _TABLE.match(line)
        if m and line.strip().startswith("[[") and m.group(1).strip().strip("\"'") == "alert":
            out.append(n)
    return out


def _entry(entry: Any, where: str, key: str, problems: list[Problem]) -> tuple[Rule, str, str] | None:
    if not isinstance(entry, Mapping):
        problems.append(Problem(where, key, "must be a table", 'e.g. [[alert]] rule = "SOL-PERP PRICE > 180"'))
        return None
    bad = [k for k in entry if k not in KEYS]
    for k in bad:
        problems.append(Problem(where, f"{key}.{k}", "unknown key", did_you_mean(k, KEYS)))
    text, note, given = entry.get("rule"), entry.get("note", ""), entry.get("id", "")
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem(where, f"{key}.rule", "required: the rule as text", 'e.g. rule = "SOL-PERP PRICE > 180"'))
        return None
    if not isinstance(note, str) or not isinstance(given, str):
        problems.append(Problem(where, key, "note and id must be text in quotes", 'e.g. note = "breakout"'))
        return None
    if given and not _ID.match(given):
        problems.append(Problem(where, f"{key}.id", f"id {given!r} is not usable", "use 1-32 letters, digits, '-' and '_'"))
        return None
    if bad:
        return None
    try:
        parsed = parse_rule(text)
    except RuleError as exc:
        problems.append(Problem(where, f"{key}.rule", f"{exc.message} (at {text[exc.start:exc.end]!r} in {text!r})"
                                if exc.end > exc.start else f"{exc.message} (in {text!r})", f"e.g. {exc.example}"))  # fmt: skip
        return None
    return parsed.rule, note[:MAX_NOTE], given


def _quote(text: str) -> str:
    """A TOML basic string (JSON's escapes are TOML's)."""
    return json.dumps(text, ensure_ascii=False)
