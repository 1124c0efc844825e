"""Exceptions of the fine-tuning package."""


class FinetuneError(Exception):
    """Base class of every fine-tuning error."""


class DataFileError(FinetuneError):
    """A dataset file (JSONL, review export) that cannot be read or does not follow its format."""

    def __init__(self, file: str, line: int | None, reason: str) -> None:
        where = f"{file}:{line}" if line is not None else file
        super().__init__(f"{where}: {reason}")
        self.file = file
        self.line = line
        self.reason = reason


class TrainingError(FinetuneError):
    """A training run that cannot start or continue (bad settings, missing checkpoint, no data)."""


class ExportError(FinetuneError):
    """A model that cannot be exported to GGUF or loaded back."""
