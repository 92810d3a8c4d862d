"""Apply the numbered SQL files in ``migrations/`` to a PostgreSQL (Supabase) database.

Each file ``NNN_name.sql`` runs once, in its own transaction together with its
row in ``public.schema_migrations``; running again applies only what is new.
An advisory lock makes two terminals migrating at once take turns. A file
changed after it was applied is reported, not re-run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import psycopg

_NAME = re.compile(r"^(\d+)_([A-Za-z0-9_]+)\.sql$")
_LOCK_KEY = 0x51D35C  # pg_advisory_lock key shared by every QuantDesk migrator

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS public.schema_migrations (
  version text PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(Exception):
    """A migration could not be applied; the message names the file."""


@dataclass(frozen=True)
class Migration:
    version: str
    name: str
    path: Path
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


@dataclass
class MigrateResult:
    applied: list[str] = field(default_factory=list)  # "003_journal" applied in this run
    already: list[str] = field(default_factory=list)  # applied before
    changed: list[str] = field(default_factory=list)  # applied before, file differs now


def migrations_dir() -> Path:
    """The shipped migrations: package data when installed, else the repository's top level."""
    from quantdesk.config.paths import shipped_dir

    return shipped_dir("migrations")


def load_migrations(directory: Path | None = None) -> list[Migration]:
    d = directory or migrations_dir()
    out: list[Migration] = []
    for p in sorted(d.glob("*.sql")):
        m = _NAME.match(p.name)
        if not m:
            raise MigrationError(f"{p}: migration files are named NNN_name.sql; rename it.")
        out.append(Migration(m.group(1), m.group(2), p, p.read_text(encoding="utf-8")))
    versions = [m.version for m in out]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{d}: two migration files share a number; renumber one.")
    return sorted(out, key=lambda m: int(m.version))


def editor_script(directory: Path | None = None) -> str:
    """Every migration as one script for Supabase's SQL editor (for a team that
    has no database password to hand, or prefers to read what runs).

    Each file runs inside a block that first checks ``schema_migrations``, so
    pasting the script again applies only what is new, and records the same
    checksum ``quantdesk db migrate`` would, so either way of migrating can
    follow the other. The whole script is one transaction: all or nothing.
    """
    migrations = load_migrations(directory)
    out = [
        "-- QuantDesk schema for a Supabase project: paste into the SQL editor and run.",
        "-- Tables, row-level security policies (auth.uid() is the signed-in user from",
        "-- the request's JWT), grants to `authenticated`, none to `anon`.",
        "-- Safe to run again: migrations already applied are skipped.",
        "BEGIN;",
        _CREATE_TABLE.strip() + ";",
        "REVOKE ALL ON public.schema_migrations FROM PUBLIC;",
    ]
    for m in migrations:
        tag = f"qd_{m.version}"
        if f"${tag}$" in m.sql or f"${tag}_sql$" in m.sql:
            raise MigrationError(f"{m.path.name} uses the quote tag ${tag}$ the editor script needs; rename it.")
        out += [
            "",
            f"-- {m.version}_{m.name}",
            f"DO ${tag}$",
            "BEGIN",
            f"  IF NOT EXISTS (SELECT 1 FROM public.schema_migrations WHERE version = '{m.version}') THEN",
            f"    EXECUTE ${tag}_sql$\n{m.sql.rstrip()}\n${tag}_sql$;",
            "    INSERT INTO public.schema_migrations (version, name, checksum)",
            f"      VALUES ('{m.version}', '{m.name}', '{m.checksum}');",
            "  END IF;",
            "END",
            f"${tag}$;",
        ]
    out += ["", "COMMIT;", "NOTIFY pgrst, 'reload schema';  -- the REST API sees the new tables at once", ""]
    return "\n".join(out)


def migrate(conn: psycopg.Connection, directory: Path | None = None) -> MigrateResult:
    """Apply every migration not yet recorded in ``schema_migrations``."""
    import psycopg

    migrations = load_migrations(directory)
    result = MigrateResult()
    conn.autocommit = True
    conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        conn.execute(_CREATE_TABLE)
        done: dict[str, str] = dict(conn.execute("SELECT version, checksum FROM public.schema_migrations").fetchall())
        for m in migrations:
            label = f"{m.version}_{m.name}"
            if m.version in done:
                (result.changed if done[m.version] != m.checksum else result.already).append(label)
                continue
            try:
                with conn.transaction():
                    conn.execute(m.sql.encode())  # no parameters: sent as one multi-statement script
                    conn.execute(
                        "INSERT INTO public.schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                        (m.version, m.name, m.checksum),
                    )
            except psycopg.Error as exc:
                detail = " ".join(str(exc).split())
                raise MigrationError(f"{m.path.name} failed and was rolled back: {detail}") from None
            result.applied.append(label)
    finally:
        if not conn.closed:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return result
