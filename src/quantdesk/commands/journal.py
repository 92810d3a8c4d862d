"""``quantdesk journal export --csv FILE [--journal PATH] [--kind fills|orders]``.

Exports the local journal's fills and orders (oldest first, prices and sizes
as exact decimals) to one CSV file for a spreadsheet or an accountant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_BAD_INPUT = 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="journal_command", metavar="ACTION", required=True)
    exp = sub.add_parser("export", help="write fills and orders to a CSV file")
    exp.add_argument("--csv", metavar="FILE", type=Path, required=True, help="the CSV file to write")
    exp.add_argument("--journal", metavar="PATH", type=Path, help="journal file (default: in the user data dir)")
    exp.add_argument(
        "--kind", action="append", choices=("fills", "orders"),
        help="export only this kind (repeat for both; default both)",
    )


def main(args: argparse.Namespace) -> int:
    from quantdesk.config.settings import configured_journal_path
    from quantdesk.trading.journal import EXPORT_KINDS, Journal, JournalError

    try:
        path = configured_journal_path(args.journal)
    except JournalError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    if not path.exists():
        print(f"No journal at {path}: nothing has been traded yet, or pass --journal PATH.", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.csv.parent and not args.csv.parent.exists():
        print(f"The directory {args.csv.parent} does not exist; create it or choose another --csv path.",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    kinds = tuple(args.kind) if args.kind else EXPORT_KINDS
    try:
        with Journal.open(path) as journal:
            n = journal.export_csv(args.csv, kinds)
    except JournalError as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(f"Cannot write {args.csv}: {exc.strerror}; choose another --csv path.", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"Wrote {n} rows ({', '.join(kinds)}) to {args.csv}")
    return 0
