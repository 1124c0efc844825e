"""Test doubles for the knowledge base: a scripted LLM and a retriever over fixed passages."""

from collections.abc import Iterator

from knowledge.errors import GenerationError, GenerationTimeoutError
from knowledge.interfaces import Chunk, ScoredChunk, SearchFilters


def chunk(text: str, document: str = "vg-hab-loc-conditions-generales.pdf", page: int = 3,
          product_code: str = "VG-HAB-LOC", chunk_id: str | None = None) -> Chunk:  # fmt: skip
    return Chunk(
        chunk_id=chunk_id or f"{document}:{page}:{abs(hash(text)) % 10_000}",
        document=document,
        page=page,
        text=text,
        product_code=product_code,
    )


class FixedRetriever:
    """Returns the given passages, filtered by product like a real store."""

    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.calls: list[tuple[str, SearchFilters | None]] = []

    def retrieve(
        self, query: str, top_k: int = 4, filters: SearchFilters | None = None
    ) -> list[ScoredChunk]:
        self.calls.append((query, filters))
        kept = [
            c for c in self.chunks
            if filters is None or filters.product_code in (None, c.product_code)
        ]  # fmt: skip
        return [ScoredChunk(c, 1.0 - i * 0.1) for i, c in enumerate(kept[:top_k])]

    def retrieve_in_context(self, query: str, product: str, top_k: int = 4) -> list[ScoredChunk]:
        everywhere = self.retrieve(query, top_k)
        if any(item.chunk.product_code == product for item in everywhere):
            return self.retrieve(query, top_k, SearchFilters(product_code=product))
        return everywhere


class ScriptedGenerator:
    """An in-process fake LLM that returns scripted text (or fails on purpose)."""

    def __init__(self, reply: str = "", fail: str | None = None, n_ctx: int = 2048) -> None:
        self.reply = reply
        self.fail = fail
        self.n_ctx = n_ctx
        self.prompts: list[str] = []

    def warm_up(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, prompt: str, deadline_s: float) -> str:
        self.prompts.append(prompt)
        if self.fail == "timeout":
            raise GenerationTimeoutError("too slow")
        if self.fail == "error":
            raise GenerationError("model crashed")
        return self.reply


class StreamingScriptedGenerator(ScriptedGenerator):
    """A scripted fake LLM that also streams: its reply's sentences one by one, then, with
    `fail_after`, a GenerationError once that many sentences were given."""

    def __init__(self, sentences: list[str], fail_after: int | None = None) -> None:
        super().__init__(" ".join(sentences))
        self.sentences = sentences
        self.fail_after = fail_after
        self.given = 0

    def stream_sentences(self, prompt: str, deadline_s: float) -> Iterator[str]:
        self.prompts.append(prompt)
        for index, sentence in enumerate(self.sentences):
            if self.fail_after is not None and index >= self.fail_after:
                raise GenerationTimeoutError("the stream stopped")
            self.given += 1
            yield sentence
