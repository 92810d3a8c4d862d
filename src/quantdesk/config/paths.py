"""Where the shipped themes, keymaps and layouts live, and where user copies go.

The repository keeps them at its top level (``themes/``, ``keymaps/``,
``layouts/``) so users can read and copy them; the package links them in as
``quantdesk/resources/<kind>`` so an installed wheel carries them too.
"""

from __future__ import annotations

from pathlib import Path

import platformdirs

APP_NAME = "quantdesk"
KINDS = ("themes", "keymaps", "layouts")  # shipped, and copies a user may keep
SHIPPED_KINDS = (*KINDS, "migrations")

_PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the quantdesk package


def shipped_dir(kind: str) -> Path:
    """The directory of shipped ``kind`` files (installed package data first,
    then the repository top level for a source checkout)."""
    if kind not in SHIPPED_KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {', '.join(SHIPPED_KINDS)}")
    installed = _PACKAGE_DIR / "resources" / kind
    if installed.is_dir():
        return installed
    return _PACKAGE_DIR.parent.parent / kind


def user_config_dir() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME))


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_journal_path() -> Path:
    """``<user data dir>/journal.sqlite3`` (platformdirs, app "quantdesk")."""
    return user_data_dir() / "journal.sqlite3"


def alert_rules_path() -> Path:
    """``<user config dir>/alerts.toml``: the trader's own alert rules."""
    return user_config_dir() / "alerts.toml"


def user_dir(kind: str) -> Path:
    """Where a user's own ``kind`` files are read from and saved to."""
    if kind not in KINDS:
        raise ValueError(f"unknown resource kind {kind!r}; expected one of {', '.join(KINDS)}")
    return user_config_dir() / kind


def shipped_files(kind: str) -> dict[str, Path]:
    """Name (file stem) -> path of every shipped ``kind`` TOML file."""
    d = shipped_dir(kind)
    return {p.stem: p for p in sorted(d.glob("*.toml"))} if d.is_dir() else {}


def user_files(kind: str) -> dict[str, Path]:
    d = user_dir(kind)
    return {p.stem: p for p in sorted(d.glob("*.toml"))} if d.is_dir() else {}
