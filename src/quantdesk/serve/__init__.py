"""Servers that expose a running session to other programs (the data API)."""
