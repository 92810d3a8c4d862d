"""Layouts: which panes are on screen, where, and what each shows.

A layout file is TOML::

    name = "overview"
    description = "depth, funding / spreads, positions"
    columns = 2
    rows = 2
    column_widths = [1, 1]      # optional relative widths (fr), one per column
    row_heights = [1, 1]        # optional relative heights, one per row

    [[panes]]
    type = "depth"              # a pane type of the catalogue (quantdesk.console.panes.catalogue)
    market = "SOL-PERP"         # optional, for panes that show one market (depth, trades):
                                #           omitted = the first market
    venue = "sim-drift"         # optional: omitted = the first venue listing the market
    timeframe = "1h"            # optional, for a chart: 1m, 5m, 15m (default), 1h, 4h, 1d
    row = 0                     # grid cell, counted from 0
    column = 0
    row_span = 1                # optional
    column_span = 1             # optional

Shipped layouts live in ``layouts/``; saved ones in ``<user config dir>/layouts``
and replace a shipped layout of the same name. No Textual import: the App
builds its grid from a ``Layout``.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from quantdesk.core.candles import parse_timeframe
from quantdesk.core.problems import Problem, ProblemsError, did_you_mean
from quantdesk.config.paths import shipped_files, user_dir, user_files
from quantdesk.console.panes import catalogue

DEFAULT_LAYOUT = "overview"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
MAX_CELLS = 12


# Both models are built at the first layout read (defer_build): the App's own
# grid needs neither, so a start without a layout file skips their validators.
class PaneSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    type: str  # a catalogue id
    market: str | None = None
    venue: str | None = None
    timeframe: str | None = None  # a chart's bars: 1m, 5m, 15m, 1h, 4h or 1d
    row: int = Field(default=0, ge=0, lt=MAX_CELLS)
    column: int = Field(default=0, ge=0, lt=MAX_CELLS)
    row_span: int = Field(default=1, ge=1, le=MAX_CELLS)
    column_span: int = Field(default=1, ge=1, le=MAX_CELLS)

    @field_validator("type")
    @classmethod
    def _catalogued(cls, value: str) -> str:
        if value not in catalogue.ids():
            raise ValueError(catalogue.unknown_message(value))
        return value

    @field_validator("timeframe")
    @classmethod
    def _a_timeframe(cls, value: str | None) -> str | None:
        return None if value is None else parse_timeframe(value)

    def cells(self) -> set[tuple[int, int]]:
        return {
            (r, c)
            for r in range(self.row, self.row + self.row_span)
            for c in range(self.column, self.column + self.column_span)
        }


class Layout(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    name: str = Field(pattern=NAME_PATTERN)
    description: str = ""
    columns: int = Field(default=2, ge=1, le=MAX_CELLS)
    rows: int = Field(default=2, ge=1, le=MAX_CELLS)
    column_widths: list[int] | None = None
    row_heights: list[int] | None = None
    panes: list[PaneSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _fits_the_grid(self) -> Layout:
        errors = []
        if self.column_widths is not None and (len(self.column_widths) != self.columns or min(self.column_widths) < 1):
            errors.append(f"column_widths needs {self.columns} whole numbers of at least 1, one per column")
        if self.row_heights is not None and (len(self.row_heights) != self.rows or min(self.row_heights) < 1):
            errors.append(f"row_heights needs {self.rows} whole numbers of at least 1, one per row")
        taken: dict[tuple[int, int], int] = {}
        for n, p in enumerate(self.panes):
            if p.row + p.row_span > self.rows or p.column + p.column_span > self.columns:
                errors.append(
                    f"pane {n + 1} ({p.type}) reaches past the {self.rows}x{self.columns} grid: "
                    f"rows {p.row}..{p.row + p.row_span - 1}, columns {p.column}..{p.column + p.column_span - 1}"
                )
                continue
            for cell in sorted(p.cells()):
                if cell in taken:
                    other = taken[cell]
                    errors.append(
                        f"pane {n + 1} ({p.type}) overlaps pane {other + 1} ({self.panes[other].type}) at row {cell[0]}, column {cell[1]}"
                    )
                    break
                taken[cell] = n
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def ordered_panes(self) -> list[PaneSpec]:
        """Panes in reading order (row, then column): the focus order."""
        return sorted(self.panes, key=lambda p: (p.row, p.column))


# ------------------------------------------------------------------ loading


def _problems_from(e: ValidationError, src: str) -> list[Problem]:
    out = []
    for err in e.errors(include_url=False):
        loc = err["loc"]
        # panes.0.type -> panes[1].type: people count panes from 1
        parts: list[str] = []
        for i, x in enumerate(loc):
            if isinstance(x, int) and i and loc[i - 1] == "panes":
                parts[-1] = f"panes[{x + 1}]"
            else:
                parts.append(str(x))
        key = ".".join(parts)
        if err["type"] == "extra_forbidden":
            model = PaneSpec if len(loc) > 1 and loc[0] == "panes" else Layout
            out.append(Problem(src, key, "unknown key", did_you_mean(str(loc[-1]), model.model_fields)))
        elif err["type"] == "missing":
            out.append(Problem(src, key, "required key is missing", "see layouts/overview.toml for an example"))
        elif key.endswith(".type") and err["type"] == "value_error":
            out.append(Problem(src, key, catalogue.unknown_message(err.get("input")), catalogue.unknown_fix(err.get("input"))))
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            out.append(Problem(src, key, msg[0].lower() + msg[1:], "see layouts/overview.toml for an example"))
    return out


def parse_layout(data: Mapping[str, object], source: str, default_name: str | None = None) -> Layout:
    data = dict(data)
    if default_name is not None:
        data.setdefault("name", default_name)
    try:
        layout = Layout.model_validate(data)
    except ValidationError as e:
        raise ProblemsError(_problems_from(e, source), "layout") from None
    if default_name is not None and layout.name != default_name:
        raise ProblemsError(
            [Problem(source, "name", f"name {layout.name!r} differs from the file name {default_name!r}", f"rename the file to {layout.name}.toml or drop the name line")],
            "layout",
        )
    return layout


def load_layout_file(path: Path) -> Layout:
    src = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProblemsError([Problem(src, "", "layout file not found", "check the path")], "layout") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProblemsError([Problem(src, "", f"cannot read: {e}", "check the file")], "layout") from None
    except tomllib.TOMLDecodeError as e:
        raise ProblemsError([Problem(src, "", f"not valid TOML: {e}", "fix the syntax at that line and column")], "layout") from None
    return parse_layout(data, src, default_name=path.stem)


def parse_layout_text(text: str, source: str, name: str) -> Layout:
    """A layout from TOML text that has no file (a team layout from the workspace)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ProblemsError([Problem(source, "", f"not valid TOML: {e}", "fix it and save it again with LAYOUT SAVE")], "layout") from None
    return parse_layout(data, source, default_name=name)


def layout_files() -> dict[str, Path]:
    """Name -> file of every layout (saved ones replace shipped ones)."""
    return {**shipped_files("layouts"), **user_files("layouts")}


def layout_names() -> list[str]:
    return list(dict.fromkeys([DEFAULT_LAYOUT, *layout_files()]))


def load_layout(name: str) -> Layout:
    files = layout_files()
    if name not in files:
        raise ProblemsError(
            [Problem("layout", name, f"no layout named {name!r}", did_you_mean(name, files))], "layout"
        )
    return load_layout_file(files[name])


def layouts_with(pane_type: str) -> list[str]:
    """Names of the layouts (shipped and saved) that hold a ``pane_type`` pane;
    a layout that does not load is passed over."""
    out = []
    for name in layout_names():
        try:
            layout = load_layout(name)
        except ProblemsError:
            continue
        if any(p.type == pane_type for p in layout.panes):
            out.append(name)
    return out


def check_layout(layout: Layout, markets: Mapping[str, Sequence[str]], source: str = "") -> list[Problem]:
    """Problems with the markets and venues a layout names, given venue -> market symbols."""
    src = source or f"layout {layout.name}"
    problems = []
    all_markets = sorted({m for ms in markets.values() for m in ms})
    for n, p in enumerate(layout.panes, start=1):
        if p.venue is not None and p.venue not in markets:
            problems.append(Problem(src, f"panes[{n}].venue", f"unknown venue {p.venue!r}", did_you_mean(p.venue, markets)))
            continue
        if p.market is not None:
            listed = markets[p.venue] if p.venue is not None else all_markets
            if p.market not in listed:
                where = f" on {p.venue}" if p.venue else ""
                problems.append(Problem(src, f"panes[{n}].market", f"unknown market {p.market!r}{where}", did_you_mean(p.market, listed)))
    return problems


# ------------------------------------------------------------------- saving


def _toml_value(v: object) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return json.dumps(str(v))  # a JSON string is a valid TOML basic string


def dump_layout(layout: Layout) -> str:
    lines = ["# QuantDesk layout, saved from the console. Edit freely; see layouts/overview.toml."]
    for key in ("name", "description", "columns", "rows", "column_widths", "row_heights"):
        v = getattr(layout, key)
        if v is not None and (v != "" or key == "name"):
            lines.append(f"{key} = {_toml_value(v)}")
    for p in layout.panes:
        lines += ["", "[[panes]]"]
        for key, v in p.model_dump().items():
            if v is None or (key.endswith("_span") and v == 1):
                continue
            lines.append(f"{key} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def save_layout(layout: Layout, name: str | None = None, directory: Path | None = None) -> Path:
    """Write ``layout`` (renamed to ``name``) to the user layouts dir; returns the file."""
    if name is not None:
        if not re.match(NAME_PATTERN, name):
            raise ValueError(f"{name!r} is not a usable layout name: use letters, digits, '-' and '_'")
        layout = layout.model_copy(update={"name": name})
    directory = directory if directory is not None else user_dir("layouts")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{layout.name}.toml"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(dump_layout(layout), encoding="utf-8")
    os.replace(tmp, path)
    return path
