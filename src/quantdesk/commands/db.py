"""``quantdesk db migrate|status|sync``: the shared PostgreSQL (Supabase) journal.

``migrate`` applies the SQL files in ``migrations/`` once each; ``status``
lists applied migrations and how many journal entries wait to be pushed;
``sync`` pushes them now. The DSN comes from ``--dsn``, ``QUANTDESK_DB__DSN``
or ``[db] dsn`` in the config; it is only ever shown with its password masked.

``migrate --sql`` (and ``migrate`` with no DSN but a ``[sync.supabase]``
project) prints the same migrations as one script for Supabase's SQL editor,
for a team that connects through the API and has no database password here.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    mig = sub.add_parser("migrate", help="create or update the tables and row-level security policies")
    st = sub.add_parser("status", help="applied migrations and journal entries waiting to be pushed")
    syn = sub.add_parser("sync", help="push the local journal's waiting entries now "
                         "(through the Supabase API when only [sync.supabase] is configured)")
    for p in (mig, st, syn):
        p.add_argument("--dsn", metavar="DSN", help="PostgreSQL connection string (default: QUANTDESK_DB__DSN or config)")
    mig.add_argument("--sql", action="store_true",
                     help="print the SQL to paste into Supabase's SQL editor instead of connecting")
    for p in (st, syn):
        p.add_argument("--journal", metavar="PATH", type=Path, help="journal file (default: in the user data dir)")
    syn.add_argument("--user-id", metavar="UUID", help="Supabase user id rows belong to (default: QUANTDESK_DB__USER_ID)")
    syn.add_argument("--team-id", metavar="UUID", help="share the rows read-only with this team")


def _connect(dsn: str) -> psycopg.Connection[Any]:
    import psycopg

    return psycopg.connect(dsn, connect_timeout=10, prepare_threshold=None)


def main(args: argparse.Namespace) -> int:
    import psycopg

    from quantdesk.trading.journal import JournalError
    from quantdesk.sync.pg_dsn import DSNError, describe_error, redact, resolve_dsn

    if args.db_command == "migrate" and (args.sql or (not args.dsn and _supabase_without_dsn())):
        return _print_editor_script()
    if args.db_command == "sync" and not args.dsn and _supabase_without_dsn():
        try:
            return _sync_api(args)
        except JournalError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        dsn = resolve_dsn(args.dsn)
    except DSNError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if args.db_command == "migrate":
            return _migrate(dsn)
        if args.db_command == "status":
            return _status(dsn, args)
        return _sync(dsn, args)
    except JournalError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except psycopg.Error as exc:
        print(f"Database {redact(dsn)}: {describe_error(exc, dsn)}. Check the DSN and that the server is up.",
              file=sys.stderr)
        return EXIT_FAILED


def _supabase_without_dsn() -> bool:
    """A [sync.supabase] project is configured and no DSN: the SQL editor is the way in."""
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError
    from quantdesk.sync.pg_dsn import DSNError, find_dsn

    try:
        return not find_dsn() and load_config().sync.supabase is not None
    except (ProblemsError, DSNError):
        return False  # resolve_dsn reports what is wrong


def _supabase_url() -> str:
    from quantdesk.config.settings import load_config
    from quantdesk.core.problems import ProblemsError

    try:
        sb = load_config().sync.supabase
    except ProblemsError:
        return ""
    return sb.url if sb is not None else ""


def _print_editor_script() -> int:
    from quantdesk.sync.migrate import MigrationError, editor_script

    try:
        script = editor_script()
    except MigrationError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_FAILED
    url = _supabase_url()
    where = f"the project {url}" if url else "your Supabase project"
    print(f"Open {where} in the Supabase dashboard, SQL Editor > New query, paste the SQL below and Run. "
          "Running it again applies only what is new.", file=sys.stderr)
    sys.stdout.write(script)
    return 0


def _migrate(dsn: str) -> int:
    from quantdesk.sync.migrate import MigrationError, migrate
    from quantdesk.sync.pg_dsn import redact, scrub

    with _connect(dsn) as conn:
        try:
            result = migrate(conn)
        except MigrationError as exc:
            print(scrub(str(exc), dsn), file=sys.stderr)
            return EXIT_FAILED
    for name in result.applied:
        print(f"applied {name}")
    for name in result.changed:
        print(f"warning: {name} was applied earlier and its file has changed since; add a new migration instead",
              file=sys.stderr)
    if not result.applied:
        print(f"{redact(dsn)} is up to date ({len(result.already) + len(result.changed)} migrations applied)")
    print("(For a Supabase project reached without the database password: `quantdesk db migrate --sql` "
          "prints the same as SQL for the SQL editor.)")
    return 0


def _status(dsn: str, args: argparse.Namespace) -> int:
    from quantdesk.sync.pg_dsn import redact

    with _connect(dsn) as conn:
        row = conn.execute("SELECT to_regclass('public.schema_migrations') IS NOT NULL").fetchone()
        exists = row is not None and row[0]
        rows = conn.execute("SELECT version, name FROM public.schema_migrations ORDER BY version").fetchall() if exists else []
    print(f"database {redact(dsn)}: {len(rows)} migrations applied" + ("" if rows else " (run: quantdesk db migrate)"))
    for version, name in rows:
        print(f"  {version}_{name}")
    from quantdesk.config.settings import configured_journal_path
    from quantdesk.trading.journal import Journal

    path = configured_journal_path(args.journal)
    if not path.exists():
        print(f"journal {path}: not created yet (nothing traded)")
        return 0
    with Journal.open(path) as journal:
        print(f"journal {journal.path}: {journal.pending_count()} entries waiting to be pushed")
    return 0


def _sync(dsn: str, args: argparse.Namespace) -> int:
    from quantdesk.sync.pg_dsn import resolve_team_id, resolve_user_id
    from quantdesk.sync.postgres import PostgresSync, SyncError

    from quantdesk.config.settings import configured_journal_path
    from quantdesk.trading.journal import Journal

    path = configured_journal_path(args.journal)
    if not path.exists():
        print(f"No journal at {path}: nothing to push yet (or pass --journal PATH).")
        return 0
    user_id = resolve_user_id(args.user_id)
    if not user_id:
        print("No user id: pass --user-id UUID or set QUANTDESK_DB__USER_ID (the Supabase user's id).",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    with Journal.open(path) as journal:
        try:
            syncer = PostgresSync(journal, dsn, user_id, team_id=resolve_team_id(args.team_id) or None)
        except SyncError as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_BAD_INPUT
        syncer.step()
        state = syncer.state
        if state.status == "down":
            print(f"Not pushed: {state.last_error}. {state.pending} entries stay queued in the journal.",
                  file=sys.stderr)
            return EXIT_FAILED
        print(f"pushed {syncer.pushed} rows; {state.describe()}")
    return 0


def _sync_api(args: argparse.Namespace) -> int:
    """``db sync`` through the Supabase REST API as the signed-in trader."""
    from quantdesk.config.settings import configured_journal_path, load_config
    from quantdesk.sync.supabase_journal import SupabaseJournalSync
    from quantdesk.trading.journal import Journal
    from quantdesk.wiring.team import TeamSetupError, supabase_session

    sb = load_config().sync.supabase
    assert sb is not None  # checked by _supabase_without_dsn
    path = configured_journal_path(args.journal)
    if not path.exists():
        print(f"No journal at {path}: nothing to push yet (or pass --journal PATH).")
        return 0
    try:
        session = supabase_session(sb)
    except TeamSetupError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        with Journal.open(path) as journal:
            syncer = SupabaseJournalSync(journal, session, team_id=sb.team_id)
            syncer.step()
            state = syncer.state
            if state.status == "down":
                print(f"Not pushed: {state.last_error}. {state.pending} entries stay queued in the journal.",
                      file=sys.stderr)
                return EXIT_FAILED
            print(f"pushed {syncer.pushed} rows to {session.project.url} as {session.email or session.user_id}; "
                  f"{state.describe()}")
    finally:
        session.project.close()
    return 0
