"""``quantdesk show insights``: the Insights pane's report as a table.

The data (``--json``) is ``quantdesk.core.insights.view``, shared with the data
API: the ranked board first, then the figures behind it. The table prints the board.
"""

from __future__ import annotations

from typing import Any

from quantdesk.core.insights.view import insights_view

__all__ = ["insights_view", "render_insights"]


def render_insights(view: dict[str, Any]) -> Any:
    """The ranked board as a rich table (the JSON has every figure)."""
    from rich.table import Table
    from rich.text import Text

    styles = {"warning": "bold yellow", "opportunity": "green", "signal": ""}
    t = Table(title=f"Insights (per ${view['notional']:,.0f})", show_edge=False)
    for name in ("", "Kind", "Market", "Venues", "What", "Numbers"):
        t.add_column(name)
    marks = {"warning": "!", "opportunity": "+", "signal": "~"}
    for i in view["insights"]:
        style = styles[i["severity"]]
        t.add_row(marks[i["severity"]], i["kind"], i["market"], " / ".join(i["venues"]), Text(i["headline"], style=style), i["detail"])
    if not view["insights"]:
        t.add_row("", "", "", "", "nothing stands out", "no position near liquidation, no pair earning after costs, no skewed book")
    return t
