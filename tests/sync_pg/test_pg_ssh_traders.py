"""Traders on one ``serve ssh`` each sync their own journal to the running
PostgreSQL as their own database user (``QUANTDESK_DB__USER_ID`` on their
key's authorized_keys line), so row-level security keeps them apart; a
trader whose key line names no user id is told their journal is not synced."""

from __future__ import annotations

import uuid

import psycopg

from quantdesk.config.settings import load_config
from support.ssh_desk import close_desk, console_up, open_desk
from support.wait import until

ALICE, BOB = str(uuid.uuid4()), str(uuid.uuid4())


def fills_by_owner(dsn: str) -> dict[str, list[str]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute("SELECT owner::text, side FROM fills ORDER BY side").fetchall()
    out: dict[str, list[str]] = {}
    for owner, side in rows:
        out.setdefault(owner, []).append(side)
    return out


async def test_each_traders_fills_land_under_their_own_user_id(migrated_dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDESK_DB__DSN", migrated_dsn)
    options = {"alice": f'environment="QUANTDESK_DB__USER_ID={ALICE}"',
               "bob": f'environment="QUANTDESK_USER=bob",environment="QUANTDESK_DB__USER_ID={BOB}"'}
    desk = await open_desk(tmp_path, settings=load_config(None), key_options=options)
    try:
        alice = await console_up(desk, "alice")
        bob = await console_up(desk, "bob")
        alice.send(":SOL-PERP BUY 1 MKT\r")
        bob.send(":SOL-PERP SELL 2 MKT\r")
        await until(lambda: fills_by_owner(migrated_dsn) == {ALICE: ["buy"], BOB: ["sell"]}, 20,
                    "each trader's fill under their own user id")
        assert "not synced" not in alice.text() and "not synced" not in bob.text()
    finally:
        await close_desk(desk)


async def test_a_trader_without_a_user_id_is_told_and_syncs_nothing(migrated_dsn, tmp_path, monkeypatch):
    monkeypatch.setenv("QUANTDESK_DB__DSN", migrated_dsn)
    monkeypatch.setenv("QUANTDESK_DB__USER_ID", ALICE)  # the server's own: never a served trader's
    desk = await open_desk(tmp_path, settings=load_config(None), key_options={"alice": ""})
    try:
        alice = await console_up(desk, "alice")
        await alice.shows("not synced to the team database")
        await alice.shows("QUANTDESK_DB__USER_ID=<your")
        alice.send(":SOL-PERP BUY 1 MKT\r")
        await until(lambda: any(ch.console.trader.trading.journal.fills() for ch in desk.server.channels),
                    what="alice's fill in her journal")
        assert [ch.console.trader.journal_sync for ch in desk.server.channels] == [None]
        assert fills_by_owner(migrated_dsn) == {}
    finally:
        await close_desk(desk)
