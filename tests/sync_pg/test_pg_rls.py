"""Row-level security through real SQL sessions carrying real JWT claims,
the way Supabase's API runs every request: role ``authenticated`` and
``request.jwt.claims`` set for the transaction."""

from __future__ import annotations

import json
import uuid
from contextlib import contextmanager

import psycopg
import pytest
from psycopg import errors

from quantdesk.trading.journal import Journal
from quantdesk.core.model import Fill
from quantdesk.sync.postgres import PostgresSync

A, B, C = (str(uuid.uuid4()) for _ in range(3))


@contextmanager
def as_user(conn: psycopg.Connection, user: str | None):
    """One transaction as ``user`` (None: signed in as nobody), rolled back on error."""
    with conn.transaction():
        conn.execute("SET LOCAL ROLE authenticated")
        if user is not None:
            claims = {"sub": user, "role": "authenticated", "aud": "authenticated", "email": f"{user[:8]}@desk.test"}
            conn.execute("SELECT set_config('request.jwt.claims', %s, true)", (json.dumps(claims),))
        yield conn


def push_fills(dsn: str, tmp_path, user: str, prefix: str, n: int = 3, team: str | None = None) -> None:
    with Journal.open(tmp_path / f"{user}-{prefix}.sqlite3") as j:
        for i in range(n):
            j.record_fill(Fill(venue="sim-drift", market="SOL-PERP", order_id=f"{prefix}o{i}", fill_id=f"{prefix}{i}",
                               side="buy", price=150_000_000, size=1_000_000_000, fee=10, liquidity="taker", ts=i))
        PostgresSync(j, dsn, user, team_id=team).sync()


def fill_ids(conn) -> set[str]:
    return {r[0] for r in conn.execute("SELECT fill_id FROM fills")}


@pytest.fixture
def conn(migrated_dsn):
    with psycopg.connect(migrated_dsn, autocommit=True) as c:
        yield c


def test_a_user_cannot_read_update_or_delete_another_users_rows(migrated_dsn, conn, tmp_path):
    push_fills(migrated_dsn, tmp_path, A, "a")
    push_fills(migrated_dsn, tmp_path, B, "b")

    with as_user(conn, A):
        assert fill_ids(conn) == {"a0", "a1", "a2"}
    with as_user(conn, B):
        assert fill_ids(conn) == {"b0", "b1", "b2"}
        assert conn.execute("UPDATE fills SET fee = 0 WHERE fill_id LIKE 'a%'").rowcount == 0
        assert conn.execute("DELETE FROM fills WHERE fill_id LIKE 'a%'").rowcount == 0
        assert conn.execute("UPDATE fills SET fee = 0 WHERE fill_id = 'b0'").rowcount == 1  # own rows: yes
    with as_user(conn, A):
        assert conn.execute("SELECT count(*) FROM fills WHERE fee = 10").fetchone()[0] == 3

    # Writing a row in someone else's name, or taking over one, is refused.
    with pytest.raises(errors.InsufficientPrivilege), as_user(conn, B):
        conn.execute(
            "INSERT INTO fills (id, owner, venue, market, order_id, fill_id, side, price, size, fee, liquidity, ts) "
            "VALUES ('x', %s, 'v', 'm', 'o', 'x', 'buy', 1, 1, 0, 'maker', 0)", (A,))
    with pytest.raises(errors.InsufficientPrivilege), as_user(conn, B):
        conn.execute("UPDATE fills SET owner = %s WHERE fill_id = 'b1'", (A,))

    # No claims (signed out) sees nothing at all.
    with as_user(conn, None):
        assert fill_ids(conn) == set()
        assert conn.execute("DELETE FROM fills").rowcount == 0
    # The anonymous role has no access to the journal.
    with pytest.raises(errors.InsufficientPrivilege), conn.transaction():
        conn.execute("SET LOCAL ROLE anon")
        conn.execute("SELECT * FROM fills")


def test_team_rows_are_readable_by_team_members_only(migrated_dsn, conn, tmp_path):
    with as_user(conn, A):
        team = str(conn.execute("INSERT INTO teams (name) VALUES ('desk') RETURNING id").fetchone()[0])
        conn.execute("INSERT INTO team_members (team_id, user_id) VALUES (%s, %s)", (team, C))
    push_fills(migrated_dsn, tmp_path, A, "t", team=team)  # shared with the team
    push_fills(migrated_dsn, tmp_path, A, "p")  # private

    with as_user(conn, C):
        assert fill_ids(conn) == {"t0", "t1", "t2"}
        assert conn.execute("SELECT name FROM teams").fetchall() == [("desk",)]
        assert [str(r[0]) for r in conn.execute("SELECT user_id FROM team_members")] == [C]
        # Read-only for members: the owner's rows cannot be changed or removed.
        assert conn.execute("UPDATE fills SET fee = 0").rowcount == 0
        assert conn.execute("DELETE FROM fills").rowcount == 0
    with as_user(conn, B):
        assert fill_ids(conn) == set()
        assert conn.execute("SELECT count(*) FROM teams").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM team_members").fetchone()[0] == 0
    # An outsider can neither join the team nor file rows under it.
    with pytest.raises(errors.InsufficientPrivilege), as_user(conn, B):
        conn.execute("INSERT INTO team_members (team_id, user_id) VALUES (%s, %s)", (team, B))
    with pytest.raises(errors.InsufficientPrivilege):
        push_fills(migrated_dsn, tmp_path, B, "x", team=team)
    with as_user(conn, A):
        assert fill_ids(conn) == {"t0", "t1", "t2", "p0", "p1", "p2"}
        # The owner removes C; C loses access at once.
        conn.execute("DELETE FROM team_members WHERE user_id = %s", (C,))
    with as_user(conn, C):
        assert fill_ids(conn) == set()


def test_alerts_and_layouts_belong_to_their_owner(conn):
    with as_user(conn, A):
        conn.execute("INSERT INTO layouts (name, body) VALUES ('scalp', '[panes]')")
        conn.execute("INSERT INTO alerts (venue, market, condition, message) VALUES "
                     "('sim-drift', 'SOL-PERP', '{\"field\": \"mark\", \"op\": \">=\", \"value\": \"200\"}', 'SOL 200')")
        owner = conn.execute("SELECT owner FROM layouts").fetchone()[0]
        assert str(owner) == A  # owner defaults to auth.uid()
    with as_user(conn, B):
        assert conn.execute("SELECT count(*) FROM layouts").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM alerts").fetchone()[0] == 0
        assert conn.execute("UPDATE alerts SET active = false").rowcount == 0
