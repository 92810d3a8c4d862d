"""Colour depth per client terminal, applied to the frames on their way out.

Every console in the server renders in 24-bit colour: Textual shares rendered
lines between Apps of one process (its blank-line cache, for one), so a
per-App colour system would leak from one trader's screen into another's.
Each client's frames are instead rewritten at the PTY: 24-bit SGR colours
become the nearest of 256 or 16 for terminals that have only those, and
colours are dropped for ``dumb`` terminals and ``NO_COLOR``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from rich.color import Color, ColorSystem

SGR = re.compile(r"\x1b\[([0-9;]*)m")
CACHE_MAX = 4096  # distinct SGR sequences remembered per client (a screen uses a few hundred)


def colour_system(term: str, env: Mapping[str, str]) -> ColorSystem | None:
    """What the client's terminal shows: 24-bit when it says so (``COLORTERM``
    or a ``*-direct`` TERM), 256 colours for ``*-256color``, 16 for other
    terminals, none for ``dumb`` or with ``NO_COLOR`` set."""
    term = (term or "").lower()
    if env.get("NO_COLOR") is not None or term in ("", "dumb"):
        return None
    if env.get("COLORTERM", "").lower() in ("truecolor", "24bit") or term.endswith(("-direct", "-truecolor")):
        return ColorSystem.TRUECOLOR
    if "256" in term:
        return ColorSystem.EIGHT_BIT
    return ColorSystem.STANDARD


class Recolour:
    """Rewrites the SGR colours of frames for one client's colour system."""

    def __init__(self, system: ColorSystem | None) -> None:
        self.system = system
        self._cache: dict[str, str] = {}

    @property
    def needed(self) -> bool:
        return self.system is not ColorSystem.TRUECOLOR

    def __call__(self, data: str) -> str:
        return SGR.sub(self._sgr, data) if self.needed else data

    def _sgr(self, m: re.Match[str]) -> str:
        params = m.group(1)
        out = self._cache.get(params)
        if out is None:
            kept = self._rewrite(params)
            out = f"\x1b[{kept}m" if kept is not None else ""  # nothing left: no sequence at all
            if len(self._cache) < CACHE_MAX:
                self._cache[params] = out
        return out

    def _rewrite(self, params: str) -> str | None:
        if not params:
            return params
        p = params.split(";")
        out: list[str] = []
        i = 0
        while i < len(p):
            code = p[i]
            if code in ("38", "48", "58") and i + 1 < len(p):
                kind = p[i + 1]
                if kind == "2" and i + 4 < len(p):
                    colour = _rgb(p[i + 2 : i + 5])
                    i += 5
                elif kind == "5" and i + 2 < len(p):
                    colour = Color.from_ansi(_int(p[i + 2]) % 256)
                    i += 3
                else:
                    i += 2
                    continue
                if code != "58" and self.system is not None and colour is not None:
                    out.extend(colour.downgrade(self.system).get_ansi_codes(foreground=code == "38"))
                continue
            if self.system is None and _is_basic_colour(code):
                i += 1
                continue
            out.append(code)
            i += 1
        return ";".join(out) if out else None


def _int(s: str) -> int:
    return int(s) if s.isdigit() else 0


def _rgb(parts: list[str]) -> Color | None:
    r, g, b = (min(255, _int(x)) for x in parts)
    return Color.from_rgb(r, g, b)


def _is_basic_colour(code: str) -> bool:
    n = _int(code) if code.isdigit() else -1
    return 30 <= n <= 49 or 90 <= n <= 107
