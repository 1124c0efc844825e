"""The stack builds the embedded knowledge base on first start, and only then."""

import sqlite3
import subprocess
from contextlib import closing

import pytest

from knowledge.settings import KnowledgeSettings
from stack.knowledge_base import ensure_knowledge_base, store_is_built


def _settings() -> KnowledgeSettings:
    """The KNOWLEDGE_* settings of the environment each test sets, as the stack reads them."""
    return KnowledgeSettings(_env_file=None)  # type: ignore[call-arg]


class TestEnsureKnowledgeBase:
    @pytest.mark.unit
    def test_an_ingested_store_is_left_alone(self, tmp_path, monkeypatch):
        store = tmp_path / "knowledge"
        store.mkdir()
        with closing(sqlite3.connect(store / "knowledge.sqlite3")) as connection, connection:
            connection.execute("CREATE TABLE chunks (id TEXT)")
            connection.execute("INSERT INTO chunks VALUES ('c1')")
        monkeypatch.setenv("KNOWLEDGE_STORE_DIR", str(store))
        assert ensure_knowledge_base(_settings(), tmp_path) is False
        assert not (tmp_path / "build").exists()

    @pytest.mark.unit
    def test_a_store_of_another_embedding_model_is_moved_aside_and_built_again(
        self, tmp_path, monkeypatch
    ):
        store = tmp_path / "knowledge"
        store.mkdir()
        with closing(sqlite3.connect(store / "knowledge.sqlite3")) as connection, connection:
            connection.execute("CREATE TABLE meta (key TEXT, value TEXT)")
            connection.execute("INSERT INTO meta VALUES ('embedding_model', 'old/model')")
            connection.execute("CREATE TABLE chunks (id TEXT)")
            connection.execute("INSERT INTO chunks VALUES ('c1')")
        monkeypatch.setenv("KNOWLEDGE_STORE_DIR", str(store))
        monkeypatch.setenv("KNOWLEDGE_EMBEDDING_MODEL", "tests.knowledge.fakes:HashingEmbedder")
        ran = []
        monkeypatch.setattr(
            "stack.knowledge_base.subprocess.run",
            lambda command, **_: ran.append(command) or subprocess.CompletedProcess(command, 0),
        )
        assert ensure_knowledge_base(_settings(), tmp_path) is True
        aside = tmp_path / "knowledge.old-model"
        assert (aside / "knowledge.sqlite3").is_file()  # kept, not deleted
        assert any("ingest" in command for command in ran)
        # A store of the settings' own model is left alone.
        monkeypatch.setenv("KNOWLEDGE_EMBEDDING_MODEL", "old/model")
        monkeypatch.setenv("KNOWLEDGE_STORE_DIR", str(aside))
        assert ensure_knowledge_base(_settings(), tmp_path) is False

    @pytest.mark.unit
    def test_an_empty_database_is_not_a_built_store(self, tmp_path):
        store = tmp_path / "knowledge"
        store.mkdir()
        with closing(sqlite3.connect(store / "knowledge.sqlite3")) as connection, connection:
            connection.execute("CREATE TABLE chunks (id TEXT)")
        assert store_is_built(store) is False
        (store / "knowledge.sqlite3").write_bytes(b"not a database")
        assert store_is_built(store) is False

    @pytest.mark.unit
    def test_weaviate_is_not_built_here(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KNOWLEDGE_STORE", "weaviate")
        monkeypatch.setenv("KNOWLEDGE_WEAVIATE_URL", "http://127.0.0.1:1")
        assert ensure_knowledge_base(_settings(), tmp_path) is False

    @pytest.mark.slow
    def test_first_start_builds_the_corpus_and_ingests_it(self, tmp_path, monkeypatch):
        monkeypatch.setenv("KNOWLEDGE_STORE_DIR", "store")  # relative: taken from the root
        monkeypatch.setenv("KNOWLEDGE_EMBEDDING_MODEL", "tests.knowledge.fakes:HashingEmbedder")
        assert ensure_knowledge_base(_settings(), tmp_path) is True
        assert len(list((tmp_path / "build" / "corpus").rglob("*.pdf"))) == 62
        with sqlite3.connect(tmp_path / "store" / "knowledge.sqlite3") as connection:
            assert connection.execute("SELECT COUNT(*) FROM chunks").fetchone()[0] > 1000
        assert ensure_knowledge_base(_settings(), tmp_path) is False  # second start: nothing to do
