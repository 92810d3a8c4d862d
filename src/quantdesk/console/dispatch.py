"""One table from the command grammar's typed commands to their handlers.

The command line, the palette and startup scripts all parse to a ``Command``
(console/cmdline.py); ``CommandDispatcher.execute`` looks its class up in the
table built by ``command_table`` and runs the handler. A command class with no
handler is a programming error and fails loudly (``UnhandledCommand``); a
handler's own failure becomes one message on screen, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from quantdesk.console.cmdline import (
    AddAlert,
    AddNote,
    CancelAll,
    CancelOrder,
    ChangeCollateral,
    Command,
    DeleteAlert,
    Help,
    Kill,
    ListAlerts,
    PlaceOrder,
    Quit,
    SaveLayout,
    SelectMarket,
    SetLayout,
    SetTheme,
    SetVenue,
    ShowNews,
    ShowPane,
    WatchAdd,
    WatchDel,
)
from quantdesk.core.problems import ProblemsError

if TYPE_CHECKING:
    from quantdesk.console.alerts_link import AlertsLink
    from quantdesk.console.news_link import NewsLink
    from quantdesk.console.team_sync import TeamLink
    from quantdesk.console.trading import TradingController
    from quantdesk.console.view_commands import ViewCommands

log = logging.getLogger(__name__)

# A handler takes its own command class; the table cannot say that per entry,
# so it is typed loosely here and each handler is typed exactly where it lives.
Handler = Callable[[Any], Awaitable[bool]]
Notify = Callable[[str], None]


class UnhandledCommand(LookupError):
    """A command class the table has no handler for: add one to ``command_table``."""


def command_table(
    view: ViewCommands, trading: TradingController, team: TeamLink, alerts: AlertsLink, news: NewsLink
) -> dict[type, Handler]:
    """Every command class of the grammar and who carries it out."""
    return {
        SelectMarket: view.select_market,
        SetVenue: view.set_venue,
        ShowPane: view.show_pane,
        SetLayout: view.set_layout,
        SaveLayout: view.save_layout,
        SetTheme: view.set_theme,
        Help: view.help,
        Quit: view.quit,
        PlaceOrder: trading.place,
        CancelOrder: trading.cancel_command,
        CancelAll: trading.cancel_all_command,
        Kill: trading.kill_command,
        ChangeCollateral: trading.collateral_command,
        WatchAdd: team.watch_add,
        WatchDel: team.watch_del,
        AddAlert: alerts.add,
        DeleteAlert: alerts.delete,
        ListAlerts: alerts.show,
        ShowNews: news.show,
        AddNote: team.add_note,
    }


class CommandDispatcher:
    def __init__(self, table: Mapping[type, Handler], notify_error: Notify) -> None:
        self.table = dict(table)
        self.notify_error = notify_error

    def handler_for(self, command: object) -> Handler:
        handler = self.table.get(type(command))
        if handler is None:
            raise UnhandledCommand(f"no handler for {type(command).__name__}; add it to command_table")
        return handler

    async def execute(self, command: Command) -> bool:
        """Carry out one parsed command; False (with a message on screen) if it could not be."""
        handler = self.handler_for(command)
        try:
            return await handler(command)
        except ProblemsError as e:
            self.notify_error(e.render())
        except Exception as e:  # a command must never take the terminal down
            log.exception("command %s failed", command)
            self.notify_error(f"{command.to_text()} failed: {e}")
        return False
