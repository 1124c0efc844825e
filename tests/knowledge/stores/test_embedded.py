"""What only the embedded store promises: crash safety, its on-disk index, one embedding model."""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from knowledge.errors import StoreError
from knowledge.interfaces import StoredDocument
from knowledge.stores.embedded import EmbeddedStore
from tests.knowledge.stores.passages import EMBEDDER, chunks_of, put


@pytest.mark.unit
class TestEmbeddedStore:
    def test_a_failed_replacement_leaves_the_previous_version_whole(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store = EmbeddedStore(tmp_path)
        put(store, "cg-auto.pdf")
        broken = chunks_of("cg-auto.pdf", "v2")
        broken[2] = broken[0]  # a duplicate chunk id: the insert fails half-way

        with pytest.raises(StoreError):
            store.replace_document(
                StoredDocument("cg-auto.pdf", "hash-v2", "", 3),
                broken,
                EMBEDDER.embed_passages([chunk.text for chunk in broken]),
            )

        results = store.lexical_search("contrat vol glace", 8)
        assert {r.chunk.metadata["version"] for r in results} == {"v1"}
        assert store.documents()["cg-auto.pdf"].content_hash == "hash-v1"
        assert store.count() == 3

    def test_a_process_killed_mid_write_leaves_the_previous_version_whole(
        self, tmp_path: Path
    ) -> None:
        store = EmbeddedStore(tmp_path)
        put(store, "cg-auto.pdf")
        store.close()
        # The child deletes the old chunks, inserts one new chunk, then dies before committing.
        child = textwrap.dedent(
            f"""
            import os, sqlite3
            from pathlib import Path
            from knowledge.stores.embedded import EmbeddedStore
            from tests.knowledge.stores.passages import put

            class DyingConnection(sqlite3.Connection):
                def executemany(self, sql, rows):
                    super().executemany(sql, list(rows)[:1])
                    os._exit(9)

            connect = sqlite3.connect
            sqlite3.connect = lambda *a, **k: connect(*a, factory=DyingConnection, **k)
            put(EmbeddedStore(Path({str(tmp_path)!r})), "cg-auto.pdf", "v2")
            """
        )
        finished = subprocess.run(
            [sys.executable, "-c", child], check=False, cwd=Path(__file__).parents[3]
        )
        assert finished.returncode == 9

        reopened = EmbeddedStore(tmp_path)
        results = reopened.lexical_search("contrat vol glace", 8)
        assert {r.chunk.metadata["version"] for r in results} == {"v1"}
        assert reopened.count() == 3
        reopened.close()

    def test_a_new_process_reuses_the_saved_index_instead_of_rebuilding_it(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        first = EmbeddedStore(tmp_path)
        put(first, "cg-auto.pdf")
        first.refresh()
        first.close()

        def no_rebuild(self: EmbeddedStore) -> None:
            raise AssertionError("the index was rebuilt")

        monkeypatch.setattr(EmbeddedStore, "_build_index", no_rebuild)
        second = EmbeddedStore(tmp_path)

        assert second.lexical_search("bris de glace", 1)[0].chunk.page == 2
        second.close()

    def test_a_reader_sees_the_writes_of_another_instance(self, tmp_path: Path) -> None:
        reader, writer = EmbeddedStore(tmp_path), EmbeddedStore(tmp_path)
        put(writer, "cg-auto.pdf")
        assert reader.lexical_search("lunettes", 1) == []

        put(writer, "faq-sante.md")

        assert reader.lexical_search("lunettes", 1)[0].chunk.document == "faq-sante.md"

    def test_refuses_vectors_of_another_dimension(self, tmp_path: Path) -> None:
        store = EmbeddedStore(tmp_path)
        put(store, "cg-auto.pdf")
        chunks = chunks_of("faq-sante.md")

        with pytest.raises(StoreError, match="dimension"):
            store.replace_document(
                StoredDocument("faq-sante.md", "h", "", 2),
                chunks,
                np.ones((2, 8), dtype=np.float32),
            )

    def test_refuses_to_open_a_store_built_with_another_embedding_model(
        self, tmp_path: Path
    ) -> None:
        store = EmbeddedStore(tmp_path, embedding_model="model-a")
        put(store, "cg-auto.pdf")
        store.close()

        with pytest.raises(StoreError, match="model-a"):
            EmbeddedStore(tmp_path, embedding_model="model-b").warm_up()
