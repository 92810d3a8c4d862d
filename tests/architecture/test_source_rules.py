"""Rules of the source tree that import-linter cannot state: a venue is named
only inside its own folder, every ``# type: ignore`` says which error and why,
and nothing sits loose at the top of the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = SRC / "quantdesk"
VENUES = PKG / "venues"
VENUE_FOLDERS = sorted(p.name for p in VENUES.iterdir() if (p / "spec.py").is_file())


def _modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "egg-info" not in str(p))


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path) -> list[tuple[int, str]]:
    """Every module ``path`` imports, relative imports resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    package = _module_name(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            found.extend((node.lineno, f"{module}.{a.name}") for a in node.names)
    return found


def test_the_venue_folders_are_found() -> None:
    # the rule below must not pass vacuously
    assert {"sim", "drift", "jupiter", "relay"} <= set(VENUE_FOLDERS)


@pytest.mark.parametrize("venue", VENUE_FOLDERS)
def test_no_module_outside_a_venue_folder_imports_that_venue(venue: str) -> None:
    own = VENUES / venue
    prefix = f"quantdesk.venues.{venue}"
    offenders = [
        f"{path.relative_to(SRC)}:{line} imports {name}"
        for path in _modules()
        if own not in path.parents
        for line, name in _imported(path)
        if name == prefix or name.startswith(prefix + ".")
    ]
    assert not offenders, (
        f"only venues/{venue}/ and its entry point may name it; "
        "go through quantdesk.venues.registry instead:\n" + "\n".join(offenders)
    )


IGNORE = re.compile(r"#\s*type:\s*ignore(?P<rest>.*)$")
WITH_CODE_AND_REASON = re.compile(r"^\[[a-z0-9-]+(?:,\s*[a-z0-9-]+)*\]\s+#\s*\S")


def test_every_type_ignore_names_its_error_and_says_why() -> None:
    offenders = []
    for path in _modules():
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            m = IGNORE.search(line)
            if m and not WITH_CODE_AND_REASON.match(m.group("rest")):
                offenders.append(f"{path.relative_to(SRC)}:{n}: {line.strip()}")
    assert not offenders, (
        "write `# type: ignore[code]  # why the checker is wrong here`, or fix the type:\n" + "\n".join(offenders)
    )


def test_nothing_sits_loose_at_the_top_but_the_entry_point() -> None:
    loose = sorted(p.name for p in PKG.glob("*.py") if p.name not in ("__init__.py", "cli.py"))
    assert not loose, f"move these into the package of their layer: {loose}"

