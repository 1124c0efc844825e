"""AnswerService with the extractive reader: the span's sentence, its source and confidence,
abstention below the threshold, and the sentence-level fallback when the reader cannot run.

The scripted reader checks the service's decisions; `TestWithTheCommittedReader` runs the real
chain (the animaux documents built, ingested with the real embedder, read by the committed
reader artifact), and the last test the same chain answered as by default, by the committed
sentence selector."""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from knowledge.abstention import AbstentionModel
from knowledge.answering import ABSTAIN_TEXT, REFUSAL_TEXT, AnswerService
from knowledge.errors import KnowledgeError
from knowledge.interfaces import Answer, ScoredChunk
from knowledge.qa.model import artifact_present
from knowledge.qa.reader import Reading, sentence_around
from knowledge.settings import READER_DIR, SENTENCE_SELECTOR_DIR
from knowledge.text import split_sentences
from knowledge.validation import AnswerValidator
from tests.knowledge.helpers import FixedRetriever, chunk

WAITING = chunk(
    "Le contrat démarre le lendemain de la souscription. Des délais de carence s'appliquent : "
    "3 jours pour un accident, 45 jours pour une maladie. Le forfait prévention n'en a aucun.",
    document="vg-animaux-faq.pdf",
    product_code="VG-ANIMAUX",
    page=2,
)
OTHER = chunk(
    "Le remboursement est de 70 % des frais vétérinaires pour la carence d'un accident.",
    document="vg-animaux-ipid.pdf",
    product_code="VG-ANIMAUX",
    page=1,
)


def _quotes_its_first_source(answer: Answer) -> bool:
    """The sentence-level answer: one sentence of a retrieved passage, that passage cited first."""
    by_document = {item.document: item.text for item in (WAITING, OTHER)}
    passage = by_document[answer.sources[0].document]
    return answer.text in split_sentences(passage)


class ScriptedReader:
    """Reads "3 jours pour un accident, 45 jours pour une maladie" in the first passage that
    holds it, with a given confidence; or fails."""

    def __init__(self, confidence: float, threshold: float = 0.5, fail: bool = False) -> None:
        self.confidence, self.threshold, self.fail = confidence, threshold, fail
        self.calls = 0

    def warm_up(self) -> None:
        if self.fail:
            raise KnowledgeError("no weights")

    def read(self, question: str, chunks: Sequence[ScoredChunk]) -> Reading | None:
        self.calls += 1
        if self.fail:
            raise KnowledgeError("no weights")
        span = "3 jours pour un accident, 45 jours pour une maladie"
        for item in chunks:
            start = item.chunk.text.find(span)
            if start >= 0:
                end = start + len(span)
                low, high = sentence_around(item.chunk.text, start, end)
                text = item.chunk.text
                marked = f"{text[low:start]}« {span} »{text[end:high]}"
                return Reading(item, span, start, end, marked, text[low:high], 0.5, self.confidence)
        return None


def _service(reader: ScriptedReader) -> AnswerService:
    retriever = FixedRetriever([OTHER, WAITING])
    return AnswerService(retriever, AnswerValidator(), reader=reader)  # type: ignore[arg-type]


@pytest.mark.unit
class TestReaderMode:
    def test_shows_the_sentence_with_the_span_its_source_and_confidence(self) -> None:
        answer = _service(ScriptedReader(0.87)).answer("Quel est le délai de carence ?")
        assert answer.mode == "extractive"
        assert answer.text == (
            "Des délais de carence s'appliquent : « 3 jours pour un accident, 45 jours pour une "
            "maladie ». (confiance : 87 %)"
        )
        top = answer.sources[0]
        assert (top.document, top.page) == ("vg-animaux-faq.pdf", 2)  # the span's passage first
        assert "« 3 jours pour un accident, 45 jours pour une maladie »" in top.passage
        assert "reader" in answer.notes
        assert "confidence=0.870" in answer.notes

    def test_abstains_below_the_threshold_and_offers_an_advisor(self) -> None:
        answer = _service(ScriptedReader(0.2)).answer("Quel est le délai de carence ?")
        assert answer.mode == "refusal"
        assert answer.text == ABSTAIN_TEXT
        assert answer.text.startswith("Je ne trouve pas de réponse sûre dans nos documents.")
        assert "conseiller" in answer.text

    def test_with_the_abstention_model_the_reader_threshold_does_not_refuse_again(self) -> None:
        model = AbstentionModel((1.0,) * 5, 0.0, (0.0,) * 5, (1.0,) * 5, 0.5)
        service = AnswerService(
            FixedRetriever([OTHER, WAITING]),
            AnswerValidator(),
            reader=ScriptedReader(0.2),  # type: ignore[arg-type]
            abstention=model,
        )
        answer = service.answer("Quel est le délai de carence ?")
        assert answer.mode == "extractive"  # the abstention model let it through: it is shown
        assert "(confiance : 20 %)" in answer.text

    def test_a_failing_reader_falls_back_to_sentences_and_is_not_retried(self) -> None:
        reader = ScriptedReader(0.9, fail=True)
        service = _service(reader)
        first = service.answer("Quel est le délai de carence ?")
        second = service.answer("Quel est le délai de carence ?")
        assert first.mode == second.mode == "extractive"
        assert _quotes_its_first_source(first)
        assert "reader_failed" in first.notes
        assert reader.calls == 1

    def test_a_reader_that_cannot_load_at_start_up_leaves_sentence_extraction(self) -> None:
        reader = ScriptedReader(0.9, fail=True)
        service = _service(reader)
        service.warm_up()  # logged, not raised: the knowledge base still answers
        answer = service.answer("Quel est le délai de carence ?")
        assert answer.mode == "extractive"
        assert _quotes_its_first_source(answer)
        assert reader.calls == 0

    def test_nothing_relevant_retrieved_is_refused_before_reading(self) -> None:
        reader = ScriptedReader(0.9)
        service = _service(reader)
        answer = service.answer("Quelle est la capitale de l'Australie ?")
        assert answer.text == REFUSAL_TEXT
        assert reader.calls == 0


needs_reader = pytest.mark.skipif(not artifact_present(READER_DIR), reason="no reader artifact")


@pytest.fixture(scope="module")
def animaux_retriever(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The animaux documents built into PDFs, ingested with the real embedder into an embedded
    store: the real retriever over them, and the converted encoder's folder."""
    from knowledge.corpus.pdf_builder import build_corpus
    from knowledge.embedders import SentenceTransformerEmbedder
    from knowledge.pipelines import build_ingestion, build_retriever
    from knowledge.settings import KnowledgeSettings
    from knowledge.stores import create_store
    from product_catalog.documents import load_document_catalog
    from tests.knowledge.e5_helpers import converted_model_dir

    root = tmp_path_factory.mktemp("animaux")
    sources = root / "sources" / "animaux"
    sources.mkdir(parents=True)
    repository = Path(__file__).resolve().parents[2]
    for path in (repository / "knowledge/corpus/sources/animaux").glob("*.md"):
        (sources / path.name).write_text(path.read_text("utf-8"), "utf-8")
    build_corpus(root / "sources", root / "corpus")
    model_dir = converted_model_dir(tmp_path_factory)
    settings = KnowledgeSettings(_env_file=None, store_dir=root / "store", llm_model="")  # type: ignore[call-arg]
    embedder = SentenceTransformerEmbedder(str(model_dir))
    store = create_store(settings)
    build_ingestion(
        settings, catalog=load_document_catalog(), store=store, embedder=embedder, progress=False
    ).run([root / "corpus"])
    return build_retriever(settings, store=store, embedder=embedder), model_dir


@pytest.fixture(scope="module")
def animaux_service(animaux_retriever: tuple[Any, Path]) -> AnswerService:
    """The animaux documents answered by the committed reader."""
    from knowledge.qa.reader import SpanReader

    retriever, model_dir = animaux_retriever
    reader = SpanReader(READER_DIR, model_dir=model_dir, threads=2)
    return AnswerService(retriever, AnswerValidator(), reader=reader)


def _waiting_periods_answer(service: AnswerService) -> Answer:
    """The service's answer to the issue's question, checked to give the three delays with a
    pet-insurance document as its first source."""
    answer = service.answer(
        "Quel est le délai de carence de l'assurance animaux ?", product="VG-ANIMAUX"
    )
    assert answer.mode == "extractive", answer.text
    for delay in ("3 jours", "45 jours", "120 jours"):
        assert delay in answer.text, answer.text
    assert answer.sources[0].document.startswith("vg-animaux-")
    return answer


@pytest.mark.slow
@needs_reader
class TestWithTheCommittedReader:
    def test_the_waiting_periods_of_pet_insurance_with_their_source(
        self, animaux_service: AnswerService
    ) -> None:
        answer = _waiting_periods_answer(animaux_service)
        top = answer.sources[0]
        assert top.page is not None
        assert "« " in top.passage
        assert "carence" in top.passage
        assert "confiance" in answer.text


needs_sentence_selector = pytest.mark.skipif(
    not artifact_present(SENTENCE_SELECTOR_DIR), reason="no sentence selector artifact"
)


@pytest.mark.slow
@needs_sentence_selector
def test_the_default_answer_gives_the_waiting_periods_of_pet_insurance(
    animaux_retriever: tuple[Any, Path],
) -> None:
    """The chat's default (no LLM, no reader): the committed sentence selector's sentence."""
    from knowledge.rerank.reranker import PassageReranker, SentenceSelector

    retriever, model_dir = animaux_retriever
    selector = SentenceSelector(PassageReranker(SENTENCE_SELECTOR_DIR, model_dir=model_dir))
    service = AnswerService(retriever, AnswerValidator(), sentence_selector=selector)
    answer = _waiting_periods_answer(service)
    assert f"« {answer.text} »" in answer.sources[0].passage


@pytest.mark.slow
@needs_sentence_selector
def test_the_selector_in_bfloat16_scores_as_in_float32_and_reads_eight_sentences(
    animaux_retriever: tuple[Any, Path],
) -> None:
    """bfloat16 is `auto`'s choice on a CPU computing it in hardware (emulated, slower, on
    others): the same scores within rounding, the same answer."""
    from knowledge.extractive import sentence_candidates
    from knowledge.rerank.reranker import PassageReranker, SentenceSelector

    retriever, model_dir = animaux_retriever
    question = "Quel est le délai de carence de l'assurance animaux ?"
    found = retriever.retrieve(question, top_k=4)
    texts = [" ".join(shown) for _, shown in sentence_candidates(found)][:8]
    exact = PassageReranker(SENTENCE_SELECTOR_DIR, model_dir=model_dir, precision="float32")
    rounded = PassageReranker(SENTENCE_SELECTOR_DIR, model_dir=model_dir, precision="bfloat16")
    full, half = exact.scores(question, texts), rounded.scores(question, texts)
    assert len(texts) >= 4
    assert max(abs(a - b) for a, b in zip(full, half, strict=True)) < 0.3, (full, half)
    assert full.index(max(full)) == half.index(max(half))
    assert SentenceSelector(rounded).candidates == 8
    # Reading the same 4 sentences, the chat gives the same answer in either precision.
    answers = [
        AnswerService(
            retriever, AnswerValidator(), sentence_selector=SentenceSelector(scorer, candidates=4)
        ).answer(question, product="VG-ANIMAUX")
        for scorer in (exact, rounded)
    ]
    assert answers[0].text == answers[1].text
