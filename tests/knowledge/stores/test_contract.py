"""The store contract, run against every store: the embedded one always, Weaviate when
WEAVIATE_URL names a server (see docs/knowledge-base.md)."""

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from knowledge.errors import StoreError
from knowledge.interfaces import DocumentStore, Fusion, ScoredChunk, SearchFilters, StoredDocument
from knowledge.stores.embedded import EmbeddedStore
from tests.knowledge.stores.passages import PASSAGES, chunks_of, put, query_vector

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
