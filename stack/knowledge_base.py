"""Build the knowledge-base store on first start, so that `make run` answers product questions.

Only the embedded store is built here (a Weaviate server is filled by `python -m knowledge
ingest`): when its database is absent, the corpus PDFs are built (if needed) and ingested with the
same commands a developer would type. Later starts find the store and skip this; ingestion is
incremental anyway. A store whose vectors come from another embedding model than the settings'
(the default model changed since it was built) is moved aside, kept, and built again.
"""

import logging
import re
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

from knowledge.settings import KnowledgeSettings
from stack.settings import PROJECT_ROOT

CORPUS_DIR = Path("build/corpus")
STORE_DATABASE = "knowledge.sqlite3"

logger = logging.getLogger(__name__)


class KnowledgeBaseError(RuntimeError):
    """Building the corpus or ingesting it failed."""


def _read_store(store_dir: Path, query: str) -> tuple[object, ...] | None:
    """The first row of `query` on the store's database, read-only (None: no database, or it
    cannot be read, or no row)."""
    database = store_dir / STORE_DATABASE
    if not database.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            row: tuple[object, ...] | None = connection.execute(query).fetchone()
    except sqlite3.Error:
        return None
    return row


def store_is_built(store_dir: Path) -> bool:
    """Whether the embedded store holds chunks (an empty database is not a built store)."""
    row = _read_store(store_dir, "SELECT COUNT(*) FROM chunks")
    return bool(row and row[0])


def stored_embedding_model(store_dir: Path) -> str | None:
    """The embedding model a built store's vectors come from (None: unknown or no store)."""
    row = _read_store(store_dir, "SELECT value FROM meta WHERE key = 'embedding_model'")
    return None if row is None else str(row[0])


def _move_aside(store_dir: Path, model: str) -> Path:
    aside = store_dir.with_name(f"{store_dir.name}.{re.sub(r'[^A-Za-z0-9.-]+', '-', model)}")
    if aside.exists():
        shutil.rmtree(aside)
    store_dir.rename(aside)
    return aside


def ensure_knowledge_base(settings: KnowledgeSettings, root: Path = PROJECT_ROOT) -> bool:
    """Build and ingest the corpus when the embedded store of `settings` is absent; True when it
    did.

    Relative paths (the store directory, `build/corpus`) are taken from `root`.
    """
    if settings.store != "embedded":
        return False
    store_dir = (
        settings.store_dir if settings.store_dir.is_absolute() else root / settings.store_dir
    )
    stored = stored_embedding_model(store_dir)
    if stored is not None and stored != settings.embedding_model:
        aside = _move_aside(store_dir, stored)
        logger.warning(
            "the knowledge base in %s embeds with %s, the settings with %s: moved to %s, "
            "ingesting again",
            store_dir,
            stored,
            settings.embedding_model,
            aside,
        )
    elif store_is_built(store_dir):
        return False
    corpus = root / CORPUS_DIR
    commands = []
    if not any(corpus.rglob("*.pdf")):
        commands.append([sys.executable, "-m", "knowledge.corpus", "build", "--out", str(corpus)])
    ingest = ["-m", "knowledge", "ingest", str(corpus), "--store-dir", str(store_dir)]
    commands.append([sys.executable, *ingest, "--no-progress"])
    for command in commands:
        result = subprocess.run(command, cwd=PROJECT_ROOT, check=False)
        if result.returncode != 0:
            raise KnowledgeBaseError(
                f"`{' '.join(command[1:])}` failed with exit code {result.returncode}"
            )
    return True
