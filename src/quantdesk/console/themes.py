"""Themes from TOML files into Textual ``Theme`` objects.

Shipped themes live in ``themes/``; a user's own in ``<user config dir>/themes``
and replace a shipped theme of the same name. Besides Textual's colours a theme
sets the trading colours panes use as CSS variables (``$bid``, ``$ask``, ``$up``,
``$down``, ``$stale``); ``$gain``/``$loss`` follow ``up``/``down`` and
``$warn``/``$flash`` the theme's warning and accent colours unless the file
sets them too.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from textual.color import Color, ColorParseError
from textual.theme import Theme

from quantdesk.core.problems import Problem, ProblemsError, did_you_mean
from quantdesk.config.paths import shipped_files, user_files

DEFAULT_THEME = "dark"
TRADING_VARIABLES = ("bid", "ask", "up", "down", "stale")
# Variables the panes also read, and which trading colour they default to.
DERIVED_VARIABLES = {"gain": "up", "loss": "down", "warn": "warning", "flash": "accent"}


def _colour(v: str) -> str:
    try:
        Color.parse(v)
    except ColorParseError:
        raise ValueError(f"{v!r} is not a colour; use #rrggbb, rgb(r,g,b) or a name like 'red'") from None
    return v


_STYLE_WORDS = {"none", "not", "bold", "dim", "italic", "underline", "strike", "reverse", "blink"}


def _colour_or_style(v: str) -> str:
    # Textual's own theme variables include text styles ("block-cursor-text-style").
    if v.strip() and set(v.lower().split()) <= _STYLE_WORDS:
        return v
    return _colour(v)


class ThemeFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
    dark: bool = True
    primary: str
    secondary: str | None = None
    accent: str | None = None
    foreground: str | None = None
    background: str | None = None
    surface: str | None = None
    panel: str | None = None
    warning: str | None = None
    error: str | None = None
    success: str | None = None
    variables: dict[str, Annotated[str, AfterValidator(_colour_or_style)]] = Field(default_factory=dict)

    @field_validator("primary", "secondary", "accent", "foreground", "background", "surface", "panel", "warning", "error", "success")
    @classmethod
    def _check_colour(cls, v: str | None) -> str | None:
        return None if v is None else _colour(v)

    def to_theme(self) -> Theme:
        variables = dict(self.variables)
        fallback = {
            "bid": self.success or "green",
            "ask": self.error or "red",
            "up": self.success or "green",
            "down": self.error or "red",
            "stale": self.warning or "grey",
        }
        for k in TRADING_VARIABLES:
            variables.setdefault(k, fallback[k])
        for k, src in DERIVED_VARIABLES.items():
            variables.setdefault(k, variables.get(src) or getattr(self, src, None) or self.accent or self.primary)
        return Theme(
            name=self.name,
            primary=self.primary,
            secondary=self.secondary,
            accent=self.accent,
            foreground=self.foreground,
            background=self.background,
            surface=self.surface,
            panel=self.panel,
            warning=self.warning,
            error=self.error,
            success=self.success,
            dark=self.dark,
            variables=variables,
        )


def load_theme_file(path: Path) -> Theme:
    """One theme file; raises ``ProblemsError`` listing everything wrong with it."""
    src = str(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ProblemsError([Problem(src, "", "theme file not found", "check the path")], "theme") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ProblemsError([Problem(src, "", f"cannot read: {e}", "check the file")], "theme") from None
    except tomllib.TOMLDecodeError as e:
        raise ProblemsError([Problem(src, "", f"not valid TOML: {e}", "fix the syntax at that line and column")], "theme") from None
    try:
        parsed = ThemeFile.model_validate(data)
    except ValidationError as e:
        problems = []
        for err in e.errors(include_url=False):
            key = ".".join(str(x) for x in err["loc"])
            if err["type"] == "extra_forbidden":
                problems.append(Problem(src, key, "unknown key", did_you_mean(key, ThemeFile.model_fields)))
            elif err["type"] == "missing":
                problems.append(Problem(src, key, "required key is missing", f'add {key} = "#rrggbb"'))
            else:
                msg = str(err["msg"]).removeprefix("Value error, ")
                problems.append(Problem(src, key, msg, "see themes/dark.toml for an example"))
        raise ProblemsError(problems, "theme") from None
    if parsed.name != path.stem:
        # One name everywhere: THEME <name>, the palette and the file.
        raise ProblemsError(
            [Problem(src, "name", f"name {parsed.name!r} differs from the file name {path.stem!r}", f'rename the file to {parsed.name}.toml or set name = "{path.stem}"')],
            "theme",
        )
    return parsed.to_theme()


def theme_files() -> dict[str, Path]:
    """Name -> file of every available theme (user files replace shipped ones)."""
    return {**shipped_files("themes"), **user_files("themes")}


def load_themes() -> tuple[dict[str, Theme], list[Problem]]:
    """Every theme that loads, by its ``name``, and the problems of those that do not.
    A broken user theme never hides the shipped ones."""
    themes: dict[str, Theme] = {}
    problems: list[Problem] = []
    for path in [*shipped_files("themes").values(), *user_files("themes").values()]:
        try:
            t = load_theme_file(path)
        except ProblemsError as e:
            problems.extend(e.problems)
            continue
        themes[t.name] = t
    return themes, problems


def theme_names() -> list[str]:
    """Names for completion and the palette, without loading every file."""
    return list(dict.fromkeys([DEFAULT_THEME, *theme_files()]))
