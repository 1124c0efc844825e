#!/usr/bin/env python3
"""Wait until the knowledge store (KNOWLEDGE_* settings, e.g. Weaviate) holds chunks, then exit 0.

The init container of the action server's pods: an action server that starts on an empty or
unreachable store answers every product question with a refusal until it is restarted, so its
pods wait for the release's ingestion Job. Exit 1 after --timeout seconds.
"""

import argparse
import sys
import time

from knowledge.settings import KnowledgeSettings
from knowledge.stores import create_store


def chunk_count(settings: KnowledgeSettings) -> int:
    """The store's chunks; any exception when it cannot be reached."""
    store = create_store(settings)
    try:
        store.warm_up()
        return store.count()
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wait-for-knowledge", description=__doc__)
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds (default 600)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between checks")
    args = parser.parse_args(argv)

    settings = KnowledgeSettings()
    deadline = time.monotonic() + args.timeout
    while True:
        try:
            count = chunk_count(settings)
            state = f"{count} chunks"
        except Exception as error:  # any failure means: not ready yet
            count, state = 0, f"unreachable ({type(error).__name__})"
        if count > 0:
            print(f"wait-for-knowledge: the {settings.store} store holds {state}", flush=True)
            return 0
        if time.monotonic() >= deadline:
            print(
                f"wait-for-knowledge: gave up: the {settings.store} store is {state}",
                file=sys.stderr,
            )
            return 1
        print(f"wait-for-knowledge: waiting: the {settings.store} store is {state}", flush=True)
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
