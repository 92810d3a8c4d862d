"""Commands dispatch through one table: every command the grammar parses has
exactly one handler, and a command class without one fails loudly."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from quantdesk.console.cmdline import Command, parse
from quantdesk.console.dispatch import UnhandledCommand

from support.app import start
from support.console_app import SIZE, make_app


def grammar_classes() -> set[type]:
    return set(typing.get_args(Command))


def test_every_command_of_the_grammar_has_a_handler_and_nothing_else_does():
    app = make_app()
    assert set(app.commands.table) == grammar_classes()
    assert len(grammar_classes()) >= 17  # the union is read, not an empty tuple


@dataclasses.dataclass(frozen=True)
class Unknown:
    def to_text(self) -> str:
        return "UNKNOWN"


async def test_a_command_class_without_a_handler_fails_loudly():
    app = make_app()
    with pytest.raises(UnhandledCommand, match="no handler for Unknown"):
        await app.commands.execute(Unknown())  # type: ignore[arg-type]  # deliberately outside the grammar


async def test_a_handler_that_fails_says_so_on_screen_and_the_terminal_keeps_running():
    app = make_app()

    async def broken(command: object) -> bool:
        raise RuntimeError("venue went away")

    async with app.run_test(size=SIZE) as pilot:
        await start(app, pilot)
        command = parse("HELP", app.command_context())
        app.commands.table[type(command)] = broken
        assert not await app.execute(command)
        await pilot.pause()
        assert [n.message for n in app._notifications] == ["HELP failed: venue went away"]
        assert app.is_running
