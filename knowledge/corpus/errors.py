"""Errors of the corpus builder."""


class CorpusError(Exception):
    """Base class of every corpus error."""


class SourceError(CorpusError):
    """A source file that does not follow the source format, located by file and line."""

    def __init__(self, source: str, line: int, message: str) -> None:
        super().__init__(f"{source}:{line}: {message}")
        self.source = source
        self.line = line
        self.message = message


class BuildError(CorpusError):
    """A well-formed source that could not be laid out as a PDF."""
