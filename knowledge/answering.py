"""The one entry point the actions call: `AnswerService.answer(question, product, context_product)`.

retrieve → (generate → validate) → read → answer with sources. Without an LLM, when it fails,
times out or is rejected by validation, the answer is extractive and says so:

- with the trained reader (`knowledge.qa.reader.SpanReader`, when `KNOWLEDGE_READER_ENABLED`
  and its artifact is present), the sentence that holds the span answering the question, the
  span between « », with its calibrated confidence; without the abstention model, below the
  reader's threshold the service abstains and offers an advisor;
- without it, one sentence of the passages read: the sentence selector's choice
  (`knowledge.rerank.reranker.SentenceSelector`, when `KNOWLEDGE_SENTENCE_SELECTOR_ENABLED` and
  its artifact is present), else the sentence that shares the most words with the question.
  The text is the document's sentence; the chat names its document and page under it.

When the passages do not answer the question, the service says the documents do not hold the
answer: the abstention model decides (`knowledge.abstention`: word overlap and coverage, the
hybrid score of the first passage, how close any passage comes to the question, and the
sentence selector's score of its choice, which is therefore made before the decision) where its
artifact is present, else a best sentence sharing too few words with the question.

Streaming: given `on_sentence`, a generator that streams (`stream_sentences`, the served LLM)
has each sentence checked as it arrives, the answer so far validated as a whole, and only then
handed to `on_sentence` (the widget's drafts, common/drafts.py). The first rejected sentence
ends the stream and the answer falls back as above; what was handed over stays a validated
prefix of an answer the person then sees replaced by the final one.
"""

import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from common import metrics
from common.sources import quoted
from knowledge.abstention import AbstentionModel, signals
from knowledge.errors import GenerationError
from knowledge.extractive import Extract, extractive_answer, mark, quote_text
from knowledge.interfaces import Answer, Generator, Retriever, ScoredChunk, SearchFilters, Source
from knowledge.prompts import DONT_KNOW, build_prompt, sanitize_question
from knowledge.validation import AnswerValidator

if TYPE_CHECKING:
    from knowledge.qa.reader import Reading, SpanReader
    from knowledge.rerank.reranker import SentenceSelector

logger = logging.getLogger(__name__)

REFUSAL_TEXT = (
    "Je ne trouve pas cette information dans les documents de Vergemont Assurances. "
    "Un conseiller pourra vous répondre précisément."
)
# The reader found a span but is not confident enough to show it.
ABSTAIN_TEXT = (
    "Je ne trouve pas de réponse sûre dans nos documents. Un conseiller peut vous répondre "
    "précisément : demandez simplement à parler à un conseiller."
)
READER_NOTE = "reader"


def reader_text(reading: "Reading") -> str:
    """What the chat shows: the sentence holding the span (span between « ») and the confidence."""
    return f"{reading.sentence} (confiance : {round(100 * reading.confidence)} %)"


def marked_passage(reading: "Reading") -> str:
    """The passage with the span between « »."""
    text = reading.chunk.chunk.text
    return f"{text[: reading.start]}« {text[reading.start : reading.end]} »{text[reading.end :]}"


def _sources(
    chunks: list[ScoredChunk], passages: dict[str, str] | None = None
) -> tuple[Source, ...]:
    passages = passages or {}
    return tuple(
        Source(
            document=item.chunk.document,
            page=item.chunk.page,
            passage=quoted(passages.get(item.chunk.chunk_id, item.chunk.text)),
            score=round(item.score, 4),
            product_code=item.chunk.product_code,
            section=item.chunk.section,
        )
        for item in chunks
    )


class AnswerService:
    """Answers product questions from the insurer's documents, with sources."""

    def __init__(
        self,
        retriever: Retriever,
        validator: AnswerValidator,
        generator: Generator | None = None,
        prompt_format: str = "completion",
        top_k: int = 4,
        min_retrieval_overlap: float = 0.3,
        timeout_s: float = 20.0,
        max_answer_tokens: int = 120,
        reader: "SpanReader | None" = None,
        abstention: AbstentionModel | None = None,
        sentence_selector: "SentenceSelector | None" = None,
        selector_abstention: AbstentionModel | None = None,
    ) -> None:
        self.retriever = retriever
        self.validator = validator
        self.generator = generator
        self.prompt_format = prompt_format
        self.top_k = top_k
        self.min_retrieval_overlap = min_retrieval_overlap
        self.timeout_s = timeout_s
        self.max_answer_tokens = max_answer_tokens
        self.reader = reader
        self.abstention = abstention
        self.sentence_selector = sentence_selector
        self.selector_abstention = selector_abstention
        self._reader_failed = False
        self._selector_failed = False
        self._reader_lock = threading.Lock()

    def warm_up(self) -> None:
        """Loads the models the answers need (the LLM, the reranker, the reader) now rather than
        on first use.

        A reader that cannot load is logged and left out: answers then use sentence extraction.
        """
        if self.generator is not None:
            self.generator.warm_up()
        warm_up_retriever = getattr(self.retriever, "warm_up", None)  # the reranker's model
        if warm_up_retriever is not None:
            warm_up_retriever()
        from knowledge.errors import KnowledgeError

        if self.reader is not None:
            try:
                self.reader.warm_up()
            except (KnowledgeError, OSError, RuntimeError) as error:
                logger.error("reader unavailable, sentence extraction used: %s", error)
                self._reader_failed = True
        if self.sentence_selector is not None:
            try:
                self.sentence_selector.warm_up()
            except (KnowledgeError, OSError, RuntimeError) as error:
                self._selector_unavailable(error)

    def answer(
        self,
        question: str,
        product: str | None = None,
        context_product: str | None = None,
        on_sentence: Callable[[str], None] | None = None,
        hurry: bool = False,
    ) -> Answer:
        """`product`: the question names it, only its documents are searched. `context_product`:
        the conversation is about it, its documents are searched when the question fits them
        (`Retriever.retrieve_in_context`). `on_sentence`: receives each validated sentence of a
        streamed LLM answer as soon as it is checked (see the module docstring). `hurry`: other
        questions wait for this one; the sentence selector is skipped (note `selector_busy`)."""
        question = sanitize_question(question)
        if not question:
            return Answer(text=REFUSAL_TEXT, sources=(), mode="refusal", validated=True)
        if context_product and not product:
            chunks = self.retriever.retrieve_in_context(question, context_product, self.top_k)
        else:
            filters = SearchFilters(product_code=product) if product else None
            chunks = self.retriever.retrieve(question, top_k=self.top_k, filters=filters)
        _, extract = extractive_answer(question, chunks)
        notes: list[str] = []
        # The selector's choice comes first: its score is one of the abstention's signals.
        selected = None
        if extract is not None:
            selected = self._select(question, chunks, extract, notes, hurry)
        abstains, why = self._abstains(question, product, chunks, selected)
        if abstains or selected is None:
            return Answer(
                text=REFUSAL_TEXT,
                sources=_sources(chunks),
                mode="refusal",
                validated=True,
                notes=(*notes, *why),
            )

        if self.generator is not None:
            generated = self._generate(self.generator, question, chunks, notes, on_sentence)
            if generated is not None:
                return generated
            metrics.record_llm_fallback(notes)
        if self.reader is not None and not self._reader_failed:
            read = self._read(self.reader, question, chunks, notes)
            if read is not None:
                return read
        extract = selected
        ordered = [extract.chunk, *[c for c in chunks if c is not extract.chunk]]
        marked = {extract.chunk.chunk.chunk_id: mark(extract.chunk.chunk.text, extract.sentences)}
        return Answer(
            text=quote_text(extract),
            sources=_sources(ordered, marked),
            mode="extractive",
            validated=self.generator is None,
            notes=tuple(notes),
        )

    def _select(
        self,
        question: str,
        chunks: list[ScoredChunk],
        extract: Extract,
        notes: list[str],
        hurry: bool = False,
    ) -> Extract:
        """The sentence selector's extract, or `extract` (the word-overlap one) without it, when
        it is busy (note `selector_busy`) or when it cannot run (logged once)."""
        from knowledge.errors import KnowledgeError
        from knowledge.rerank.reranker import SelectorBusyError

        if self.sentence_selector is None or self._selector_failed:
            return extract
        if hurry:
            notes.append("selector_busy")
            return extract
        try:
            chosen = self.sentence_selector.choose(question, chunks, extract.overlap)
        except SelectorBusyError:
            notes.append("selector_busy")
            return extract
        except (KnowledgeError, OSError, RuntimeError) as error:
            self._selector_unavailable(error)
            return extract
        return chosen or extract

    def _selector_unavailable(self, error: Exception) -> None:
        with self._reader_lock:
            if not self._selector_failed:
                logger.error("sentence selector unavailable, word overlap used: %s", error)
            self._selector_failed = True

    def _abstains(
        self,
        question: str,
        product: str | None,
        chunks: list[ScoredChunk],
        extract: Extract | None,
    ) -> tuple[bool, tuple[str, ...]]:
        """Whether the passages do not answer the question, and the note that says why: the
        model with the selector's score when the selector chose `extract`, the model without it
        otherwise."""
        if extract is None:
            return True, ()
        model, score = self.abstention, None
        if self.selector_abstention is not None and extract.selector_score is not None:
            model, score = self.selector_abstention, extract.selector_score
        measured = None if model is None else self._measure(question, product)
        if model is None or measured is None:
            return extract.overlap < self.min_retrieval_overlap, ()
        similarity, unknown = measured
        probability = model.probability(
            signals(question, chunks, extract, similarity, unknown, score)
        )
        if probability >= model.threshold:
            return False, ()
        return True, ("abstention", f"answer_probability={probability:.3f}")

    def _measure(self, question: str, product: str | None) -> tuple[float, float] | None:
        """How close the documents (the named product's) come to the question, and the share
        of its words they never use, when the retriever can tell (`StoreRetriever.similarity`
        and `unknown_share`); None otherwise."""
        similarity = getattr(self.retriever, "similarity", None)
        unknown_share = getattr(self.retriever, "unknown_share", None)
        if similarity is None or unknown_share is None:
            return None
        filters = SearchFilters(product_code=product) if product else None
        value = similarity(question, filters)
        unknown = unknown_share(question, filters)
        if value is None or unknown is None:
            return None
        return float(value), float(unknown)

    def _read(
        self, reader: "SpanReader", question: str, chunks: list[ScoredChunk], notes: list[str]
    ) -> Answer | None:
        """The reader's answer, its abstention, or None when it cannot run (logged once; the
        sentence-level extractive answer is used from then on)."""
        from knowledge.errors import KnowledgeError

        try:
            reading = reader.read(question, chunks)
        except (KnowledgeError, OSError, RuntimeError) as error:
            with self._reader_lock:
                if not self._reader_failed:
                    logger.error("reader unavailable, sentence extraction used: %s", error)
                self._reader_failed = True
            notes.append("reader_failed")
            return None
        if reading is None:
            return None
        confidence = f"confidence={reading.confidence:.3f}"
        # With the abstention model, it alone decides whether the documents answer (measured
        # on dev: the reader's own threshold on top of it doubled the false abstentions).
        if self.abstention is None and reading.confidence < reader.threshold:
            return Answer(
                text=ABSTAIN_TEXT,
                sources=_sources(chunks),
                mode="refusal",
                validated=True,
                notes=(*notes, READER_NOTE, confidence, "abstained"),
            )
        ordered = [reading.chunk, *[c for c in chunks if c is not reading.chunk]]
        return Answer(
            text=reader_text(reading),
            sources=_sources(ordered, {reading.chunk.chunk.chunk_id: marked_passage(reading)}),
            mode="extractive",
            validated=self.generator is None,
            notes=(*notes, READER_NOTE, confidence),
        )

    def _generate(
        self,
        generator: Generator,
        question: str,
        chunks: list[ScoredChunk],
        notes: list[str],
        on_sentence: Callable[[str], None] | None = None,
    ) -> Answer | None:
        stream = getattr(generator, "stream_sentences", None) if on_sentence else None
        try:
            budget = generator.n_ctx - self.max_answer_tokens
            prompt, used = build_prompt(
                question, chunks, self.prompt_format, generator.count_tokens, budget
            )
            passages = [c.chunk.text for c in used]
            if stream is not None and on_sentence is not None:
                sentences = stream(prompt, self.timeout_s)
                text = self._streamed(sentences, question, passages, on_sentence)
            else:
                text = generator.generate(prompt, deadline_s=self.timeout_s)
        except GenerationError as error:
            logger.warning("LLM unavailable, extractive answer used: %s", error)
            notes.append("llm_failed")
            return None
        except _StreamRejectedError as rejected:
            logger.info("streamed LLM answer rejected by validation: %s", rejected.reason)
            notes.append(f"validation_rejected: {rejected.reason}")
            return None
        if not text or text.lower().startswith(DONT_KNOW.lower()):
            return Answer(text=REFUSAL_TEXT, sources=_sources(used), mode="refusal", validated=True)
        verdict = self.validator.validate(question, text, passages)
        if not verdict.accepted:
            logger.info("LLM answer rejected by validation: %s", verdict.reason)
            notes.append(f"validation_rejected: {verdict.reason}")
            return None
        return Answer(
            text=text,
            sources=_sources(used),
            mode="generative",
            validated=True,
            validation_score=verdict.score,
        )

    def _streamed(
        self,
        sentences: Iterator[str],
        question: str,
        passages: list[str],
        on_sentence: Callable[[str], None],
    ) -> str:
        """The streamed answer, each sentence handed to `on_sentence` once the answer up to it
        passes validation; raises _StreamRejectedError at the first that does not. An answer that
        starts as the "not in the documents" reply is read to its end and shown as a refusal."""
        shown: list[str] = []
        for sentence in sentences:
            shown.append(sentence)
            text = " ".join(shown)
            if text.lower().startswith(DONT_KNOW.lower()):
                continue  # the refusal reply: never a draft
            verdict = self.validator.validate(question, text, passages)
            if not verdict.accepted:
                raise _StreamRejectedError(verdict.reason)
            on_sentence(sentence)
        return " ".join(shown).strip()


class _StreamRejectedError(Exception):
    """A streamed sentence failed validation: the stream stops, the answer falls back."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
