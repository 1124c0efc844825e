#!/usr/bin/env python3
"""Wait until the application databases are at this image's Alembic head, then exit 0.

The init container of the web app and action server pods: a new release's pods start serving
only once its migration Job has run. Checks ADVISOR_DATABASE_URL and WEBAPP_DATABASE_URL,
whichever are set; never migrates. Exit 1 after --timeout seconds, naming what was missing.
"""

import argparse
import os
import sys
import time
from pathlib import Path

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from common.db import engine_from_url

VARIABLES = ("ADVISOR_DATABASE_URL", "WEBAPP_DATABASE_URL")


def head_revision(root: Path) -> str | None:
    return ScriptDirectory.from_config(Config(str(root / "alembic.ini"))).get_current_head()


def current_revision(url: str) -> str | None:
    """The database's revision; SQLAlchemyError when it cannot be reached."""
    engine = engine_from_url(url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def behind(urls: dict[str, str], head: str | None) -> dict[str, str]:
    """Variable → why its database is not ready yet (empty when all are at head)."""
    waiting = {}
    for variable, url in urls.items():
        try:
            revision = current_revision(url)
        except SQLAlchemyError as error:
            waiting[variable] = f"unreachable ({type(error).__name__})"
            continue
        if revision != head:
            waiting[variable] = f"at revision {revision or 'none'}"
    return waiting


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wait-for-schema", description=__doc__)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--interval", type=float, default=3.0, help="seconds between checks")
    parser.add_argument("--root", type=Path, default=Path.cwd(), help="folder of alembic.ini")
    args = parser.parse_args(argv)

    urls = {name: os.environ[name] for name in VARIABLES if os.environ.get(name)}
    if not urls:
        print(f"wait-for-schema: none of {', '.join(VARIABLES)} is set", file=sys.stderr)
        return 2
    head = head_revision(args.root)
    deadline = time.monotonic() + args.timeout
    while True:
        waiting = behind(urls, head)
        if not waiting:
            print(f"wait-for-schema: {', '.join(urls)} at head {head}", flush=True)
            return 0
        summary = "; ".join(f"{name} {state}" for name, state in waiting.items())
        if time.monotonic() >= deadline:
            print(f"wait-for-schema: gave up, head is {head}: {summary}", file=sys.stderr)
            return 1
        print(f"wait-for-schema: waiting for head {head}: {summary}", flush=True)
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
