"""Errors of the feedback package."""


class FeedbackError(Exception):
    """Base class of every feedback error."""


class FeedbackStorageError(FeedbackError):
    """The feedback database could not be read or written; nothing was half-written."""


class FeedbackExportError(FeedbackError):
    """An export could not be written (bad destination, unknown format)."""


class RatingLockedError(FeedbackError):
    """The message was rated from another browser (or without a rater token): the rating stays."""
