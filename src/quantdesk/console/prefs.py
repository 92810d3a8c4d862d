"""Choices the console remembers between runs (the last theme picked).

Kept apart from config.toml, which is the trader's file and never rewritten.
A setting given in config.toml, the environment or a flag wins over a
remembered choice.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from quantdesk.config.paths import user_data_dir


def prefs_path() -> Path:
    return user_data_dir() / "prefs.json"


def load_prefs(path: Path | None = None) -> dict[str, Any]:
    path = path or prefs_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # absent or damaged: start from the configuration
    return data if isinstance(data, dict) else {}


def save_pref(key: str, value: Any, path: Path | None = None) -> None:
    path = path or prefs_path()
    data = load_prefs(path)
    data[key] = value
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only home must not stop the console
