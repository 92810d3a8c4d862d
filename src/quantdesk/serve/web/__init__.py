"""``quantdesk serve web``: the console in a browser tab (textual-serve), one
console process per tab, behind a token."""
