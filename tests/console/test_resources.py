"""Shipped themes, keymaps and layouts reach an installed (non-editable) package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from quantdesk.config.paths import shipped_dir, shipped_files

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("kind, names", [("themes", {"dark", "amber", "high-contrast"}),
                                         ("keymaps", {"default", "vim"}),
                                         ("layouts", {"overview", "scalper", "carry"})])
def test_shipped_files_found(kind, names):
    assert shipped_dir(kind).is_dir()
    assert names <= set(shipped_files(kind))


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="unknown resource kind"):
        shipped_dir("fonts")


@pytest.mark.slow
def test_wheel_install_carries_the_files(tmp_path):
    src = tmp_path / "src-copy"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "src", "themes", "keymaps", "layouts", "migrations"):
        p = REPO / name
        if p.is_dir():
            shutil.copytree(p, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif p.exists():
            shutil.copy2(p, src / name)
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", str(src), "--no-deps", "-q", "--target", str(target)],
        check=True, capture_output=True,
    )
    for kind in ("themes", "keymaps", "layouts"):
        d = target / "quantdesk" / "resources" / kind
        assert d.is_dir() and not d.is_symlink()
        assert {p.name for p in d.glob("*.toml")} == {p.name for p in (REPO / kind).glob("*.toml")}
    code = "from quantdesk.config.paths import shipped_dir; print(shipped_dir('layouts'))"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(target)}, cwd=tmp_path).stdout.strip()
    assert out == str(target / "quantdesk" / "resources" / "layouts")
