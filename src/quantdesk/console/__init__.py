"""The Textual console: the App, its panes, screens and key handling."""

from quantdesk.console import collector

collector.start_up()  # before the console's own imports: see collector
