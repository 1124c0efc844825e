"""The retriever: modes, filters, one embedding call for a batch of questions."""

from pathlib import Path

import pytest

from knowledge.interfaces import Chunk, ScoredChunk, SearchFilters, StoredDocument
from knowledge.retrieval import StoreRetriever, one_per_page
from knowledge.stores.embedded import EmbeddedStore
from tests.knowledge.fakes import HashingEmbedder
from tests.knowledge.stores.passages import PASSAGES, put

pytestmark = pytest.mark.unit


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    store = EmbeddedStore(tmp_path)
    for document in PASSAGES:
        put(store, document)
    return store


class TestStoreRetriever:
    @pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
    def test_every_mode_finds_the_passage_that_answers(
        self, store: EmbeddedStore, mode: str
    ) -> None:
        retriever = StoreRetriever(store, HashingEmbedder(), mode=mode)  # type: ignore[arg-type]

        results = retriever.retrieve("Les dégâts des eaux sont-ils couverts ?", top_k=2)

        assert results[0].chunk.text.startswith("Les dégâts des eaux")
        assert len(results) == 2

    def test_uses_its_default_number_of_passages(self, store: EmbeddedStore) -> None:
        retriever = StoreRetriever(store, HashingEmbedder(), top_k=3)

        assert len(retriever.retrieve("contrat")) == 3

    def test_passes_the_filters_to_the_store(self, store: EmbeddedStore) -> None:
        retriever = StoreRetriever(store, HashingEmbedder())

        results = retriever.retrieve("vol", filters=SearchFilters(product_code="VG-HABITATION"))

        assert {r.chunk.product_code for r in results} == {"VG-HABITATION"}

    def test_embeds_a_batch_of_questions_in_one_call(self, store: EmbeddedStore) -> None:
        embedder = HashingEmbedder()
        retriever = StoreRetriever(store, embedder)

        results = retriever.retrieve_batch(["vol", "lunettes", "résiliation"])

        assert len(results) == 3
        assert embedder.calls == 1

    def test_the_product_in_context_is_searched_when_the_question_fits_it(
        self, store: EmbeddedStore
    ) -> None:
        embedder = HashingEmbedder()
        retriever = StoreRetriever(store, embedder, top_k=2)

        results = retriever.retrieve_in_context("Le vol est-il garanti ?", "VG-AUTO")

        assert {r.chunk.product_code for r in results} == {"VG-AUTO"}
        assert embedder.calls == 1  # one embedding for both searches

    def test_a_question_about_another_product_searches_every_document(
        self, store: EmbeddedStore
    ) -> None:
        retriever = StoreRetriever(store, HashingEmbedder(), top_k=1)

        (result,) = retriever.retrieve_in_context(
            "Les dégâts des eaux sont-ils couverts ?", "VG-SANTE"
        )

        assert result.chunk.product_code == "VG-HABITATION"

    def test_the_unknown_share_counts_words_no_passage_in_scope_uses(
        self, store: EmbeddedStore
    ) -> None:
        retriever = StoreRetriever(store, HashingEmbedder())
        # "drone" is in no passage; "vol" in both the car's and the home's; "lunettes" only in
        # the health one's; "Volés" is "vol" once stemmed and folded.
        assert retriever.unknown_share("Le vol d'un drone est-il garanti ?") == pytest.approx(1 / 3)
        assert retriever.unknown_share("Volés : garanti ?") == 0.0
        auto = SearchFilters(product_code="VG-AUTO")
        assert retriever.unknown_share("lunettes et vol", auto) == pytest.approx(1 / 2)
        assert retriever.unknown_share("le de la ?") == 0.0

    def test_bm25_needs_no_embedder_and_the_others_do(self, store: EmbeddedStore) -> None:
        assert StoreRetriever(store, None, mode="bm25").retrieve("lunettes")
        with pytest.raises(ValueError, match="needs an embedder"):
            StoreRetriever(store, None, mode="hybrid")


class TestDistinctPages:
    def test_keeps_the_best_chunk_of_each_page_in_rank_order(self) -> None:
        def item(chunk_id: str, page: int, score: float) -> ScoredChunk:
            return ScoredChunk(Chunk(chunk_id, "cg.pdf", page, "texte"), score)

        ranked = [item("a", 2, 0.9), item("b", 2, 0.8), item("c", 5, 0.7), item("d", 2, 0.6)]

        assert [r.chunk.chunk_id for r in one_per_page(ranked)] == ["a", "c"]

    def test_results_come_from_distinct_pages_unless_disabled(self, tmp_path: Path) -> None:
        store = EmbeddedStore(tmp_path)
        page_two = [f"Le bris de glace est couvert, variante {n}." for n in range(4)]
        chunks = [Chunk(f"c{n}", "cg.pdf", 2, text) for n, text in enumerate(page_two)]
        chunks += [Chunk("c9", "cg.pdf", 3, "Le bris de glace des vérandas est exclu.")]
        embedder = HashingEmbedder()
        store.replace_document(
            StoredDocument("cg.pdf", "hash", chunk_count=len(chunks)),
            chunks,
            embedder.embed_passages([chunk.text for chunk in chunks]),
        )
        store.refresh()

        distinct = StoreRetriever(store, embedder, mode="bm25").retrieve("bris de glace", top_k=3)
        plain = StoreRetriever(store, embedder, mode="bm25", distinct_pages=False).retrieve(
            "bris de glace", top_k=3
        )

        assert sorted(r.chunk.page for r in distinct) == [2, 3]  # only two pages exist
        assert len(plain) == 3
        assert [r.chunk.page for r in plain].count(2) >= 2
