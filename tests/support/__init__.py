"""Shared test support for QuantDesk: real servers (Redis, PostgreSQL), the
local Drift stand-ins, the terminal's paused simulated session and waiting
helpers. Fixture modules are registered once in tests/conftest.py; tests import
plain helpers from here, never from another folder's conftest or test module."""
