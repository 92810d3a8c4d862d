"""Keymaps: which keys trigger which action id.

Layers, later ones override single ids of earlier ones:
  1. the defaults in ``quantdesk.core.actions``
  2. the shipped keymap chosen by ``[ui] keymap`` (``keymaps/<name>.toml``)
  3. the user keymap file (``<user config dir>/keymap.toml``)
  4. the ``[keys]`` section of config.toml

Unknown ids and bad key names are reported and skipped. When two ids end up on
one key in the same scope the id set by the later layer keeps the key and the
other loses it; each such clash is reported. No Textual import here: the App
turns ``Keymap.textual_keymap()`` into ``App.set_keymap``.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from quantdesk.core import actions
from quantdesk.core.actions import flatten_bindings
from quantdesk.core.problems import Problem, did_you_mean
from quantdesk.config.paths import shipped_files, user_config_dir

MODIFIERS = ("ctrl", "alt", "shift", "meta", "super", "hyper")
# Names Textual gives characters whose Unicode names are long.
_NAME_REPLACEMENTS = {
    "solidus": "slash",
    "reverse_solidus": "backslash",
    "commercial_at": "at",
    "hyphen_minus": "minus",
    "plus_sign": "plus",
    "low_line": "underscore",
}
_KEY_NAME = re.compile(r"^[a-z0-9_]+$")


class BadKey(ValueError):
    """A key string that is not a key."""


def normalize_key(key: str) -> str:
    """Canonical Textual key name: ``"?"`` -> ``"question_mark"``,
    ``"Ctrl+X"`` -> ``"ctrl+x"``, ``"]"`` -> ``"right_square_bracket"``.

    Raises ``BadKey`` with the reason for an empty key or an unknown modifier.
    """
    raw = key.strip() or key  # a lone " " means the space bar
    if raw == "":
        raise BadKey("empty key")
    if raw == " ":
        return "space"
    if raw == "+":
        return "plus"
    parts = raw.split("+")
    if len(parts) > 1 and parts[-1] == "":  # "ctrl++"
        parts = [*parts[:-2], "+"]
    *mods, last = parts
    mods = [m.strip().lower() for m in mods]
    for m in mods:
        if m not in MODIFIERS:
            raise BadKey(f"unknown modifier {m!r} in {key!r}; modifiers are {', '.join(MODIFIERS)}")
    last = last.strip() or last
    if len(last) == 1:
        # A letter with ctrl/alt is the same key whatever its case.
        name = _character_name(last.lower() if mods and last.isalpha() else last)
    else:
        name = last.lower()
        if not _KEY_NAME.match(name):
            raise BadKey(f"{key!r} is not a key name; use one character or a name like tab, f5, pageup")
    return "+".join([*mods, name])


def _character_name(ch: str) -> str:
    if ch.isalnum():
        return ch
    try:
        name = unicodedata.name(ch).lower().replace("-", "_").replace(" ", "_")
    except ValueError:
        return ch
    return _NAME_REPLACEMENTS.get(name, name)


def display_key(key: str) -> str:
    """Short form for the help screen: ``right_square_bracket`` -> ``]``."""
    mods, _, name = key.rpartition("+")
    reverse = {v: k for k, v in _NAME_REPLACEMENTS.items()}
    uname = reverse.get(name, name)
    ch = name
    if len(name) > 1:
        for spelled in (uname.replace("_", " "), uname.replace("_", "-")):  # "HYPHEN-MINUS" has a hyphen
            try:
                ch = unicodedata.lookup(spelled.upper())
                break
            except KeyError:
                ch = name
        if not ch.isprintable() or ch.isspace():
            ch = name
    return f"{mods}+{ch}" if mods else ch


@dataclass
class Keymap:
    """The merged keymap: id -> keys, plus what went wrong building it."""

    keys: dict[str, tuple[str, ...]]  # normalized key names, first is the primary
    origin: dict[str, str] = field(default_factory=dict)  # id -> the layer that set it
    problems: list[Problem] = field(default_factory=list)

    def textual_keymap(self) -> dict[str, str]:
        """For ``App.set_keymap``: id -> comma separated keys. An id with no keys
        left gets an unused key name so Textual drops its default too."""
        return {i: ",".join(k) if k else "unbound" for i, k in self.keys.items()}

    def keys_for(self, action_id: str) -> tuple[str, ...]:
        return self.keys.get(action_id, ())

    def by_group(self) -> list[tuple[str, list[tuple[actions.Action, tuple[str, ...]]]]]:
        """Help screen rows: (group, [(action, keys)]) in catalogue order."""
        out: dict[str, list[tuple[actions.Action, tuple[str, ...]]]] = {}
        for a in actions.ACTIONS:
            out.setdefault(a.group, []).append((a, self.keys.get(a.id, ())))
        return list(out.items())


def read_keymap_file(path: Path, problems: list[Problem]) -> dict[str, object]:
    """The ``[bindings]`` of a keymap file (flattened); problems appended."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(Problem(str(path), "", "file not found", "check the path"))
        return {}
    except tomllib.TOMLDecodeError as e:
        problems.append(Problem(str(path), "", f"not valid TOML: {e}", "fix the syntax at that line and column"))
        return {}
    except OSError as e:
        problems.append(Problem(str(path), "", f"cannot read: {e.strerror}", "check its permissions"))
        return {}
    for k in data:
        if k not in ("name", "bindings"):
            problems.append(Problem(str(path), k, "unknown key", 'a keymap file has "name" and a [bindings] table'))
    b = data.get("bindings", {})
    if not isinstance(b, dict):
        problems.append(Problem(str(path), "bindings", "must be a table", 'write it as [bindings] with "id" = "key" lines'))
        return {}
    return flatten_bindings(b)


def shipped_keymap_names() -> list[str]:
    return list(shipped_files("keymaps"))


def user_keymap_path() -> Path:
    return user_config_dir() / "keymap.toml"


def load_keymap(
    name: str = "default",
    user_file: Path | None = None,
    overrides: Mapping[str, object] | None = None,
    overrides_source: str = "[keys] in config",
) -> Keymap:
    """Merge the layers described in the module doc. ``user_file`` defaults to
    the user keymap path and is skipped silently when it does not exist."""
    problems: list[Problem] = []
    layers: list[tuple[str, Mapping[str, object]]] = []
    shipped = shipped_files("keymaps")
    if name in shipped:
        layers.append((str(shipped[name]), read_keymap_file(shipped[name], problems)))
    else:
        problems.append(Problem("config", "ui.keymap", f"no shipped keymap named {name!r}", did_you_mean(name, shipped)))
    path = user_file if user_file is not None else user_keymap_path()
    if path.exists() or user_file is not None:
        layers.append((str(path), read_keymap_file(path, problems)))
    if overrides:
        layers.append((overrides_source, flatten_bindings(overrides)))
    return merge_layers(layers, problems)


def merge_layers(layers: list[tuple[str, Mapping[str, object]]], problems: list[Problem] | None = None) -> Keymap:
    problems = problems if problems is not None else []
    keys: dict[str, tuple[str, ...]] = {}
    origin: dict[str, str] = {}
    rank: dict[str, int] = {}  # id -> index of the layer that set it last
    for a in actions.ACTIONS:
        keys[a.id] = (normalize_key(a.key),)
        origin[a.id] = "built-in defaults"
        rank[a.id] = -1
    for i, (source, table) in enumerate(layers):
        for action_id, value in table.items():
            if action_id not in actions.BY_ID:
                problems.append(
                    Problem(source, action_id, "unknown binding id", did_you_mean(action_id, actions.BY_ID))
                )
                continue
            raw = [value] if isinstance(value, str) else value
            if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
                problems.append(Problem(source, action_id, "must be a key or a list of keys", 'e.g. "ctrl+b" or ["b", "f2"]'))
                continue
            norm: list[str] = []
            for k in raw:
                try:
                    n = normalize_key(k)
                except BadKey as e:
                    problems.append(Problem(source, action_id, str(e), "use a key like \"b\", \"ctrl+b\", \"f2\""))
                    continue
                if n not in norm:
                    norm.append(n)
            keys[action_id] = tuple(norm)
            origin[action_id] = source
            rank[action_id] = i
    _resolve_clashes(keys, origin, rank, problems)
    _report_shadowed(keys, origin, problems)
    return Keymap(keys=keys, origin=origin, problems=problems)


def _resolve_clashes(
    keys: dict[str, tuple[str, ...]], origin: dict[str, str], rank: dict[str, int], problems: list[Problem]
) -> None:
    owners: dict[tuple[str, str], list[str]] = {}
    for action_id, ks in keys.items():
        scope = actions.BY_ID[action_id].scope
        for k in ks:
            owners.setdefault((scope, k), []).append(action_id)
    for (_scope, k), ids in owners.items():
        if len(ids) < 2:
            continue
        # The most recently set id keeps the key; ties keep catalogue order.
        order = {a.id: n for n, a in enumerate(actions.ACTIONS)}
        winner = max(ids, key=lambda i: (rank[i], -order[i]))
        for loser in ids:
            if loser == winner:
                continue
            keys[loser] = tuple(x for x in keys[loser] if x != k)
            left = ", ".join(display_key(x) for x in keys[loser]) or "no key"
            problems.append(
                Problem(
                    origin[winner],
                    winner,
                    f"key {display_key(k)!r} is also bound to {loser!r} (set in {origin[loser]}); "
                    f"{winner!r} keeps it, {loser!r} now has {left}",
                    f"give {loser!r} or {winner!r} another key",
                )
            )


def _report_shadowed(keys: dict[str, tuple[str, ...]], origin: dict[str, str], problems: list[Problem]) -> None:
    """An app-wide key that a pane also uses does nothing while that pane has
    focus (the focused pane's key wins): say so, keep both. A mode's keys are
    not shadowed: they win while the mode is on."""
    pane_keys: dict[str, list[str]] = {}
    for action_id, ks in keys.items():
        if actions.BY_ID[action_id].scope != "app":
            for k in ks:
                pane_keys.setdefault(k, []).append(action_id)
    for action_id, ks in keys.items():
        # A mode's keys (the replay's) take precedence while it is on and leave the key to the pane otherwise.
        if actions.BY_ID[action_id].scope != "app" or actions.BY_ID[action_id].requires:
            continue
        for k in ks:
            for other in pane_keys.get(k, []):
                scope = actions.BY_ID[other].scope
                problems.append(
                    Problem(
                        origin[action_id],
                        action_id,
                        f"key {display_key(k)!r} is also {other!r} in the {scope} pane; "
                        f"while that pane has focus the key does {other!r}",
                        f"give {action_id!r} another key if it should work there too",
                    )
                )
