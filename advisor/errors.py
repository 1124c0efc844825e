"""Errors of the advisor workflow. Each carries a French message an advisor can read as is."""


class AdvisorError(Exception):
    """Base class of the advisor workflow errors; `str(error)` is shown to the user."""


class LeadNotFoundError(AdvisorError):
    """No lead has this reference (or it was never stored)."""


class ClaimConflictError(AdvisorError):
    """Another advisor claimed the lead first, or it is no longer new."""


class TransitionError(AdvisorError):
    """The requested status change is not allowed from the lead's current status."""


class PermissionDeniedError(AdvisorError):
    """The user's role or relation to the lead does not allow the operation."""


class FrozenRecordError(AdvisorError):
    """A validated (frozen) duty-of-advice version can no longer change."""


class InvalidInputError(AdvisorError):
    """A value typed by a user or sent by a client is invalid; nothing was stored."""


class StoreUnavailableError(AdvisorError):
    """The lead database cannot be reached."""


class ExportPathError(AdvisorError):
    """An export target lies outside the allowed folder."""


class AppendOnlyError(AdvisorError):
    """Audit events are written once and never changed or deleted."""
