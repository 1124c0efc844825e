"""Exceptions of the knowledge base."""


class KnowledgeError(Exception):
    """Base class of every knowledge-base error."""


class GenerationError(KnowledgeError):
    """The LLM could not be loaded or failed while generating."""


class GenerationTimeoutError(GenerationError):
    """The LLM did not finish within its time limit."""


class EmbeddingModelError(KnowledgeError):
    """An embedding model that cannot be found, converted or loaded."""


class DocumentError(KnowledgeError):
    """A file that cannot be ingested: unreadable, malformed, encrypted, empty or image-only."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


class StoreError(KnowledgeError):
    """The document store cannot be opened, written or searched."""


class DatasetError(KnowledgeError):
    """An evaluation file (questions JSONL, SQuAD JSON) that does not follow its format."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason
