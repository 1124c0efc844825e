"""Command line of the feedback package.

    python -m feedback export --format jsonl --output feedback.jsonl [--since 2026-11-01]
    python -m feedback export --format csv            # to standard output
    python -m feedback summary [--json]

The database is ADVISOR_DATABASE_URL (default sqlite:///.run/advisor.db) unless --database-url is
given; its tables are created by `alembic upgrade head`.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from common.db import engine_from_url
from feedback.errors import FeedbackError
from feedback.export import ExportFormat, write_export
from feedback.settings import FeedbackSettings
from feedback.store import FeedbackStore


def _date(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid date {value!r}: expected YYYY-MM-DD or an ISO 8601 date and time"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m feedback", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: ADVISOR_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)
    export = commands.add_parser("export", help="write every rating as CSV or JSONL")
    export.add_argument("--format", choices=["csv", "jsonl"], required=True)
    export.add_argument("--output", default="-", help="file to write, '-' for standard output")
    export.add_argument("--since", type=_date, help="only ratings given since this date (UTC)")
    summary = commands.add_parser("summary", help="counts per level, average, poor ratings")
    summary.add_argument("--json", action="store_true", help="print the summary as JSON")
    return parser


def _export(store: FeedbackStore, fmt: ExportFormat, output: str, since: datetime | None) -> int:
    items = store.iter_all(since)
    if output == "-":
        return write_export(items, sys.stdout, fmt)
    target = Path(output)
    if target.is_dir():
        raise FeedbackError(f"{output} is a folder: give a file name")
    if not target.parent.is_dir():
        raise FeedbackError(f"the folder {target.parent} does not exist")
    # Written beside the target and renamed: an interrupted export leaves no partial file.
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            count = write_export(items, out, fmt)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return count


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        url = args.database_url or FeedbackSettings().database_url
    except ValidationError as exc:
        print(f"feedback: error: invalid setting ADVISOR_DATABASE_URL: {exc}", file=sys.stderr)
        return 2
    engine = engine_from_url(url)
    store = FeedbackStore(engine)
    try:
        if args.command == "export":
            count = _export(store, args.format, args.output, args.since)
            print(f"{count} rating(s) exported", file=sys.stderr)
            return 0
        summary = store.summary()
        if args.json:
            print(summary.model_dump_json(indent=2))
            return 0
        print(f"ratings: {summary.total}, average: {summary.average}")
        for level in summary.levels:
            print(f"  {level.rating} {level.emoji} {level.label}: {level.count}")
        return 0
    except FeedbackError as exc:
        print(f"feedback: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"feedback: error: cannot write the export: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
