"""The store contract, run against every store: the embedded one always, Weaviate when
WEAVIATE_URL names a server (see docs/knowledge-base.md); then what only the embedded store
promises (crash safety, its on-disk index)."""

import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from knowledge.errors import StoreError
from knowledge.interfaces import (
    Chunk,
    DocumentStore,
    Fusion,
    ScoredChunk,
    SearchFilters,
    StoredDocument,
    Vector,
)
from knowledge.stores.embedded import EmbeddedStore
from knowledge.stores.fusion import reciprocal_rank_fusion, relative_score_fusion
from tests.knowledge.fakes import HashingEmbedder

EMBEDDER = HashingEmbedder()

PASSAGES = {
    "cg-auto.pdf": ("VG-AUTO", "auto", [
        "La résiliation du contrat auto est possible à tout moment après un an.",
        "Le bris de glace est couvert par les formules intermédiaire et tous risques.",
        "Le vol du véhicule est garanti en cas d'effraction.",
    ]),
    "cg-habitation.pdf": ("VG-HABITATION", "habitation", [
        "Les dégâts des eaux sont couverts, fuite ou débordement.",
        "Le vol au domicile est garanti après effraction constatée.",
        "Vous pouvez résilier votre contrat habitation lors d'un déménagement.",
    ]),
    "faq-sante.md": ("VG-SANTE", "sante", [
        "Les lunettes sont remboursées selon la formule choisie.",
        "Le tiers payant évite l'avance des frais chez le pharmacien.",
    ]),
}  # fmt: skip


def chunks_of(document: str, version: str = "v1") -> list[Chunk]:
    product, category, texts = PASSAGES[document]
    return [
        Chunk(
            chunk_id=f"{document}#{version}-{index}",
            document=document,
            page=index + 1,
            text=text if version == "v1" else f"{text} ({version})",
            section="Conditions",
            product_code=product,
            category=category,
            metadata={"title": f"Conditions {product}", "version": version},
        )
        for index, text in enumerate(texts)
    ]


def put(store: DocumentStore, document: str, version: str = "v1") -> list[Chunk]:
    chunks = chunks_of(document, version)
    store.replace_document(
        StoredDocument(document, f"hash-{version}", f"/docs/{document}", len(chunks)),
        chunks,
        EMBEDDER.embed_passages([chunk.text for chunk in chunks]),
    )
    return chunks


def query_vector(text: str) -> Vector:
    vector: Vector = EMBEDDER.embed_queries([text])[0]
    return vector


StoreFactory = Callable[[], DocumentStore]


@pytest.fixture(
    params=[
        pytest.param("embedded", marks=pytest.mark.unit),
        pytest.param("weaviate", marks=pytest.mark.integration),
    ]
)
def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    """Opens (and reopens) one store; every store opened is closed at the end."""
    opened: list[DocumentStore] = []
    if request.param == "embedded":

        def factory() -> DocumentStore:
            store: DocumentStore = EmbeddedStore(tmp_path / "store")
            store.warm_up()
            opened.append(store)
            return store

        yield factory
    else:
        url = os.environ.get("WEAVIATE_URL")
        if not url:
            pytest.skip("WEAVIATE_URL is not set: no Weaviate server to run the contract against")
        from knowledge.stores.weaviate_store import WeaviateStore

        collection = f"Test{uuid.uuid4().hex[:10]}"
        tenant = os.environ.get("WEAVIATE_TEST_TENANT") or None

        def factory() -> DocumentStore:
            store = WeaviateStore(
                url,
                api_key=os.environ.get("WEAVIATE_API_KEY") or None,
                collection=collection,
                tenant=tenant,
            )
            store.warm_up()
            opened.append(store)
            return store

        yield factory
        opened[0].drop_collections()  # type: ignore[attr-defined]
    for store in opened:
        store.close()


@pytest.fixture
def store(open_store: StoreFactory) -> DocumentStore:
    store = open_store()
    for document in PASSAGES:
        put(store, document)
    store.refresh()
    return store


def documents_of(results: list[ScoredChunk]) -> list[str]:
    return [result.chunk.document for result in results]


class TestStoreContract:
    def test_remembers_each_document_with_its_hash_source_and_chunk_count(
        self, store: DocumentStore
    ) -> None:
        documents = store.documents()

        assert set(documents) == set(PASSAGES)
        assert documents["cg-auto.pdf"] == StoredDocument(
            "cg-auto.pdf", "hash-v1", "/docs/cg-auto.pdf", 3
        )
        assert store.count() == 8

    def test_lexical_search_matches_french_inflections_and_missing_accents(
        self, store: DocumentStore
    ) -> None:
        results = store.lexical_search("resilier mon contrat auto", 2)

        assert results[0].chunk.text.startswith("La résiliation du contrat auto")
        assert all(result.score > 0 for result in results)

    def test_lexical_search_ignores_stop_words_only_queries(self, store: DocumentStore) -> None:
        assert store.lexical_search("le la les de du", 4) == []

    def test_dense_search_ranks_by_cosine_similarity(self, store: DocumentStore) -> None:
        results = store.dense_search(query_vector("lunettes remboursées"), 3)

        assert results[0].chunk.document == "faq-sante.md"
        assert [r.score for r in results] == sorted((r.score for r in results), reverse=True)

    def test_returns_whole_chunks_with_their_metadata(self, store: DocumentStore) -> None:
        result = store.lexical_search("tiers payant pharmacien", 1)[0]

        assert result.chunk == chunks_of("faq-sante.md")[1]

    def test_hybrid_alpha_zero_is_lexical_and_alpha_one_is_dense(
        self, store: DocumentStore
    ) -> None:
        query = "vol avec effraction"
        vector = query_vector(query)

        lexical = store.hybrid_search(query, vector, 3, alpha=0.0)
        dense = store.hybrid_search(query, vector, 3, alpha=1.0)

        assert [r.chunk.chunk_id for r in lexical] == [
            r.chunk.chunk_id for r in store.lexical_search(query, 3)
        ]
        assert [r.chunk.chunk_id for r in dense] == [
            r.chunk.chunk_id for r in store.dense_search(vector, 3)
        ]

    @pytest.mark.parametrize("fusion", ["relative_score", "rrf"])
    def test_hybrid_search_finds_what_one_search_alone_finds(
        self, store: DocumentStore, fusion: Fusion
    ) -> None:
        results = store.hybrid_search(
            "dégâts des eaux", query_vector("dégâts des eaux"), 2, alpha=0.5, fusion=fusion
        )

        assert results[0].chunk.text.startswith("Les dégâts des eaux")

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (SearchFilters(product_code="VG-HABITATION"), {"cg-habitation.pdf"}),
            (SearchFilters(category="auto"), {"cg-auto.pdf"}),
            (SearchFilters(document="cg-auto.pdf"), {"cg-auto.pdf"}),
            (SearchFilters(product_code="VG-AUTO", category="habitation"), set()),
            (SearchFilters(product_code="VG-INCONNU"), set()),
        ],
    )
    def test_every_search_applies_the_metadata_filters(
        self, store: DocumentStore, filters: SearchFilters, expected: set[str]
    ) -> None:
        query = "vol garanti effraction contrat résilier"
        vector = query_vector(query)

        for results in (
            store.lexical_search(query, 8, filters),
            store.dense_search(vector, 8, filters),
            store.hybrid_search(query, vector, 8, alpha=0.5, filters=filters),
        ):
            assert set(documents_of(results)) == expected

    def test_replacing_a_document_leaves_only_its_new_chunks(self, store: DocumentStore) -> None:
        put(store, "cg-auto.pdf", "v2")
        store.refresh()

        results = store.lexical_search("bris de glace", 8, SearchFilters(document="cg-auto.pdf"))

        assert {r.chunk.metadata["version"] for r in results} == {"v2"}
        assert store.documents()["cg-auto.pdf"].content_hash == "hash-v2"
        assert store.count() == 8

    def test_a_deleted_document_is_no_longer_found(self, store: DocumentStore) -> None:
        store.delete_document("faq-sante.md")
        store.refresh()

        assert "faq-sante.md" not in store.documents()
        assert "faq-sante.md" not in documents_of(store.dense_search(query_vector("lunettes"), 8))
        assert store.lexical_search("lunettes", 4) == []
        assert store.count() == 6

    def test_an_empty_store_finds_nothing(self, open_store: StoreFactory) -> None:
        empty = open_store()

        assert empty.lexical_search("vol", 4) == []
        assert empty.dense_search(query_vector("vol"), 4) == []
        assert empty.hybrid_search("vol", query_vector("vol"), 4, alpha=0.5) == []
        assert empty.documents() == {}

    def test_what_was_written_is_there_after_reopening(
        self, store: DocumentStore, open_store: StoreFactory
    ) -> None:
        store.close()

        reopened = open_store()

        assert set(reopened.documents()) == set(PASSAGES)
        assert reopened.lexical_search("tiers payant", 1)[0].chunk.document == "faq-sante.md"

    def test_refuses_an_alpha_outside_zero_to_one(self, store: DocumentStore) -> None:
        with pytest.raises(StoreError, match="alpha"):
            store.hybrid_search("vol", query_vector("vol"), 4, alpha=1.5)


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
            from tests.knowledge.test_stores import put

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
            [sys.executable, "-c", child], check=False, cwd=Path(__file__).parents[2]
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


@pytest.mark.unit
class TestFusion:
    def test_relative_score_normalises_each_list_then_weights_by_alpha(self) -> None:
        lexical = [(1, 10.0), (2, 5.0), (3, 0.0)]
        dense = [(2, 0.9), (4, 0.5)]

        fused = dict(relative_score_fusion(lexical, dense, alpha=0.25))

        assert fused == pytest.approx({1: 0.75, 2: 0.75 * 0.5 + 0.25, 3: 0.0, 4: 0.0})

    def test_reciprocal_rank_fusion_sums_weighted_inverse_ranks(self) -> None:
        fused = reciprocal_rank_fusion([(1, 3.0), (2, 1.0)], [(2, 0.8)], alpha=0.5)

        assert fused[0][0] == 2
        assert dict(fused)[2] == pytest.approx(0.5 / 62 + 0.5 / 61)


@pytest.mark.unit
class TestWeaviateFilters:
    """What can be checked of the Weaviate store without a server: the filters it sends."""

    def test_no_filter_when_no_field_is_set(self) -> None:
        from knowledge.stores.weaviate_store import WeaviateStore

        assert WeaviateStore._filters(None) is None
        assert WeaviateStore._filters(SearchFilters()) is None

    def test_every_set_field_becomes_an_equality_all_of_them_required(self) -> None:
        from weaviate.classes.query import Filter
        from weaviate.collections.classes.filters import _FilterAnd

        from knowledge.stores.weaviate_store import WeaviateStore

        one = WeaviateStore._filters(SearchFilters(product_code="VG-AUTO"))
        both = WeaviateStore._filters(SearchFilters(product_code="VG-AUTO", document="cg.pdf"))

        assert one == Filter.by_property("product_code").equal("VG-AUTO")
        assert isinstance(both, _FilterAnd)
        assert both.filters == [
            Filter.by_property("product_code").equal("VG-AUTO"),
            Filter.by_property("document").equal("cg.pdf"),
        ]
