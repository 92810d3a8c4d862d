"""The command line at the bottom of the screen (``:`` opens it).

Tab completes the word being typed, up/down walk the history (kept across
runs), Enter runs the command, Escape closes. A command that does not parse
stays in the box with a caret line under the wrong word and what was expected.
Parsing is ``quantdesk.console.cmdline``'s; this widget only edits and shows.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Input, Static

from quantdesk.console.cmdhistory import CommandHistory
from quantdesk.console.cmdline import Command, CommandContext, ParseError, complete, expected_here, parse, tokenize

MAX_SHOWN = 14


class CommandInput(Input):
    BINDINGS: ClassVar = [
        Binding("tab", "complete", "complete", show=False, priority=True),
        Binding("up", "older", "older", show=False),
        Binding("down", "newer", "newer", show=False),
        Binding("escape", "close", "close", show=False),
    ]

    def action_complete(self) -> None:
        self.parent_line.complete()

    def action_older(self) -> None:
        self.parent_line.walk(-1)

    def action_newer(self) -> None:
        self.parent_line.walk(1)

    def action_close(self) -> None:
        self.parent_line.close()

    @property
    def parent_line(self) -> CommandLine:
        return self.query_ancestor(CommandLine)


class CommandLine(Vertical):
    """Hidden until opened; ``Run`` carries a parsed command to the App."""

    DEFAULT_CSS = """
    CommandLine {
        dock: bottom;
        height: auto;
        display: none;
        background: $panel;
        margin-bottom: 1;
    }
    CommandLine.-open { display: block; }
    CommandLine #cmd-hint { color: $text-muted; height: auto; padding: 0 0 0 2; }
    CommandLine #cmd-error { color: $error; height: auto; display: none; }
    CommandLine.-error #cmd-error { display: block; }
    CommandLine #cmd-row { height: 1; }
    CommandLine #cmd-prompt { width: 2; color: $accent; text-style: bold; }
    CommandLine CommandInput { border: none; height: 1; padding: 0; background: $panel; width: 1fr; }
    CommandLine CommandInput:focus { border: none; }
    """

    class Run(Message):
        def __init__(self, command: Command, text: str) -> None:
            super().__init__()
            self.command = command
            self.text = text

    def __init__(
        self,
        history: CommandHistory | None = None,
        context: Callable[[], CommandContext] | None = None,  # the names the parser accepts now
        **kw: Any,
    ) -> None:
        super().__init__(**kw)
        self.history = history if history is not None else CommandHistory()
        self._command_context = context
        self._cursor = self.history.cursor()
        self._return_focus: Widget | None = None
        self.error: ParseError | None = None

    def compose(self) -> ComposeResult:
        with Horizontal(id="cmd-row"):
            yield Static(":", id="cmd-prompt")
            yield CommandInput(placeholder="SOL-PERP DEPTH · SOL-PERP BUY 2 @ 145.20 POST · LAYOUT scalper · HELP", id="cmd-input")
        yield Static("", id="cmd-error")  # under the input, so the carets line up with the text
        yield Static("", id="cmd-hint")

    @property
    def input(self) -> CommandInput:
        return self.query_one(CommandInput)

    def context(self) -> CommandContext:
        return self._command_context() if self._command_context is not None else CommandContext()

    # -- open / close ------------------------------------------------------
    def open(self, text: str = "") -> None:
        self._return_focus = self.app.focused
        self.add_class("-open")
        self.input.value = text
        self.input.cursor_position = len(text)
        self._cursor = self.history.cursor()
        self._clear_error()
        self.input.focus()
        self._show_hint()

    def close(self) -> None:
        self.remove_class("-open")
        self._clear_error()
        self.input.value = ""
        target = self._return_focus
        self._return_focus = None
        if target is not None and target.is_attached:
            target.focus()
        else:
            self.app.screen.focus_next()

    @property
    def is_open(self) -> bool:
        return self.has_class("-open")

    # -- editing -----------------------------------------------------------
    def complete(self) -> None:
        text = self.input.value[: self.input.cursor_position]
        rest = self.input.value[self.input.cursor_position :]
        options = complete(text, self.context())
        if not options:
            self._show_hint()
            return
        tokens = tokenize(text)
        typing = bool(tokens) and tokens[-1].end == len(text)
        start = tokens[-1].start if typing else len(text)
        if len(options) == 1:
            new = text[:start] + options[0] + " "
        else:
            prefix = os.path.commonprefix([o.upper() for o in options])
            typed = text[start:]
            new = text[:start] + (options[0][: len(prefix)] if len(prefix) > len(typed) else typed)
        self.input.value = new + rest
        self.input.cursor_position = len(new)
        self._show_hint(options if len(options) > 1 else None)

    def walk(self, step: int) -> None:
        value = self.input.value
        new = self._cursor.older(value) if step < 0 else self._cursor.newer(value)
        self.input.value = new
        self.input.cursor_position = len(new)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.error is not None:
            self._clear_error()
        self._show_hint()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value
        if not text.strip():
            self.close()
            return
        try:
            command = parse(text, self.context())
        except ParseError as e:
            self.show_error(text, e)
            return
        self.history.add(text)
        self.close()
        self.post_message(self.Run(command, text))

    # -- feedback ----------------------------------------------------------
    def show_error(self, text: str, error: ParseError) -> None:
        self.error = error
        width = max(1, error.end - error.start)
        t = Text(no_wrap=False)
        t.append(" " * (2 + error.start) + "^" * width + "\n", style="bold")
        t.append(error.message)
        if error.expected and "expected" not in error.message:
            shown = [e for e in error.expected][:MAX_SHOWN]
            t.append("; expected " + ", ".join(shown), style="")
        err = self.query_one("#cmd-error", Static)
        err.update(t)
        self.add_class("-error")

    def _clear_error(self) -> None:
        self.error = None
        self.remove_class("-error")
        self.query_one("#cmd-error", Static).update("")

    def _show_hint(self, options: list[str] | None = None) -> None:
        if options is None:
            text = self.input.value[: self.input.cursor_position]
            ctx = self.context()
            # Words that can be inserted; else what is expected (e.g. <price> after "@").
            options = complete(text, ctx) or expected_here(text, ctx)
        shown = options[:MAX_SHOWN]
        more = f"  (+{len(options) - MAX_SHOWN})" if len(options) > MAX_SHOWN else ""
        self.query_one("#cmd-hint", Static).update(Text("  ".join(shown) + more))
