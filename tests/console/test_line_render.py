"""A pane line renders to the same cells, styles and runs as rich and Textual
would make of it, for any text, spans and width."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text
from textual.strip import Strip

from quantdesk.console.panes.line_render import LineRenderer

CONSOLE = Console(color_system="truecolor", force_terminal=True, width=200)
BASE = Style(color="#d6dbe1", bgcolor="#1e2127")
STYLES = [
    Style(color="#5fd787"), Style(color="#ff5f5f", bold=True), Style(bgcolor="#303030"),
    Style(italic=True), "bold", "dim #aaaaaa", Style(color="#d6dbe1", bgcolor="#1e2127"),
]
# One-cell characters of every kind the panes draw, and a few two-cell ones.
CHARS = st.sampled_from(list("0123456789.,+-$% abcXYZ│█▉▌±…") + ["中", "🙂"])


def reference(text: Text, width: int) -> Strip:
    """What rich's Text.render, then Textual's strip steps, give - with the
    line's own style laid under it as a span, as a rich Console prints it."""
    spans = [Span(0, len(text.plain), text.style), *text.spans] if text.style else list(text.spans)
    under = Text(text.plain, spans=spans, no_wrap=True, end="")
    segments = list(under.render(CONSOLE, end=""))
    return Strip(segments).apply_style(BASE).crop_extend(0, width, BASE).simplify()


def runs(strip: Strip) -> list[tuple[str, Style | None]]:
    """The strip's cells as maximal runs of one style (rich leaves empty
    segments where a span lies past the text's end; they paint nothing)."""
    out: list[tuple[str, Style | None]] = []
    for seg in strip:
        if not seg.text:
            continue
        if out and out[-1][1] == seg.style:
            out[-1] = (out[-1][0] + seg.text, seg.style)
        else:
            out.append((seg.text, seg.style))
    return out


@st.composite
def lines(draw: st.DrawFn) -> Text:
    plain = "".join(draw(st.lists(CHARS, max_size=40)))
    n = len(plain)
    spans = []
    for _ in range(draw(st.integers(0, 6))):
        start = draw(st.integers(0, max(n, 0)))
        end = draw(st.integers(start, n + 3))
        spans.append(Span(start, end, draw(st.sampled_from(STYLES))))
    if draw(st.booleans()):  # side by side, as Table.row makes them
        spans.sort(key=lambda s: s.start)
        kept, at = [], 0
        for s in spans:
            if s.start >= at:
                kept.append(s)
                at = s.end
        spans = kept
    own = draw(st.sampled_from(["", *STYLES]))
    return Text(plain, style=own, spans=spans, no_wrap=True, end="")


@settings(max_examples=400, deadline=None)
@given(lines(), st.integers(1, 60))
def test_a_line_renders_as_rich_and_textual_would(text: Text, width: int) -> None:
    got = LineRenderer(CONSOLE, BASE).strip(text, width)
    want = reference(text, width)
    assert got.cell_length == width
    assert runs(got) == runs(want)
    assert list(got) == [Segment(t, s) for t, s in runs(got)]  # already in runs: nothing to simplify


def test_a_line_without_spans_keeps_its_own_style() -> None:
    # Headers and messages are one style: the dim warning must not paint plain.
    warn = Style(color="#ffaf00", bold=True)
    strip = LineRenderer(CONSOLE, BASE).strip(Text("sim-drift is stale", warn), 20)
    assert [seg.style for seg in strip][0] == BASE + warn
    assert strip.text == "sim-drift is stale  "


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=12), st.sampled_from([None, *STYLES[:3]])), min_size=1, max_size=5))
def test_a_table_row_is_the_text_rich_would_build(cells: list) -> None:
    from quantdesk.console.panes.base import Column, Table

    table = Table([Column(f"c{i}", 8, align) for i, align in zip(range(len(cells)), ["left", "right", "center"] * 3)])
    row = table.row(cells, "bold")
    rebuilt = Text(row.plain, style=row.style, spans=list(row.spans), no_wrap=True, end="")
    assert row.plain == rebuilt.plain and len(row) == len(rebuilt) == table.width
    assert row.spans == rebuilt.spans and row.style == rebuilt.style
    assert row.plain.isprintable()  # no control code reaches the screen or shifts the columns after it
