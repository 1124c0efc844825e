"""The lead's status workflow: statuses, the transitions allowed, who may act on a lead.

A lead is `new` until an advisor claims it, then moves forward until `won`, `lost` or `closed`.
Only its claimant or a supervisor works on a claimed lead; only a supervisor closes a new one.
Each check raises the advisor error whose French message the user reads (`advisor.errors`).
"""

from __future__ import annotations

from dataclasses import dataclass

from advisor.errors import (
    ClaimConflictError,
    InvalidInputError,
    PermissionDeniedError,
    TransitionError,
)

STATUSES = ("new", "claimed", "contacted", "offer_sent", "won", "lost", "closed")
# The French names of the statuses, in the errors below and in the console.
STATUS_LABELS = {
    "new": "Nouveau",
    "claimed": "Pris en charge",
    "contacted": "Contacté",
    "offer_sent": "Offre envoyée",
    "won": "Gagné",
    "lost": "Perdu",
    "closed": "Clos",
}
TERMINAL = frozenset({"won", "lost", "closed"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"closed"}),
    "claimed": frozenset({"contacted", "lost", "closed"}),
    "contacted": frozenset({"offer_sent", "lost", "closed"}),
    "offer_sent": frozenset({"won", "lost", "closed"}),
    "won": frozenset(),
    "lost": frozenset(),
    "closed": frozenset(),
}
ROLES = ("advisor", "supervisor")
WORK_ON_REFUSAL = (
    "Seul le conseiller qui a pris ce prospect en charge (ou un superviseur) peut le modifier."
)


@dataclass(frozen=True)
class Actor:
    """Who does something: a console or API user, or a system actor (id None)."""

    id: int | None
    username: str
    display_name: str
    role: str

    @property
    def is_supervisor(self) -> bool:
        return self.role == "supervisor"


ASSISTANT = Actor(None, "assistant", "Assistant", "system")
CLI = Actor(None, "cli", "Ligne de commande", "system")


def check_can_claim(actor: Actor) -> None:
    if actor.role not in ROLES or actor.id is None:
        raise PermissionDeniedError("Seuls les conseillers peuvent prendre un prospect en charge.")


def claim_refusal(status: str, claimed_by: str | None) -> ClaimConflictError:
    """Why a claim lost: the lead is someone else's, or no longer new."""
    if claimed_by:
        return ClaimConflictError(f"Ce prospect a déjà été pris en charge par {claimed_by}.")
    return ClaimConflictError(f"Ce prospect n'est plus nouveau (statut : {STATUS_LABELS[status]}).")


def check_can_work_on(
    claimed_by_id: int | None, actor: Actor, refusal: str = WORK_ON_REFUSAL
) -> None:
    """A supervisor works on any lead, an advisor on the leads they claimed."""
    if actor.is_supervisor:
        return
    if actor.role != "advisor" or claimed_by_id != actor.id:
        raise PermissionDeniedError(refusal)


def check_known_status(status: str) -> None:
    if status not in STATUSES:
        raise InvalidInputError(f"Statut inconnu : {status}.")


def check_status_change(current: str, target: str, claimed_by_id: int | None, actor: Actor) -> None:
    """Refuse a change by the wrong person and a transition the workflow does not allow."""
    if target == "closed" and current == "new" and not actor.is_supervisor:
        raise PermissionDeniedError("Seul un superviseur peut clore un prospect nouveau.")
    if current != "new":
        check_can_work_on(claimed_by_id, actor)
    if target not in TRANSITIONS[current]:
        raise TransitionError(
            f"Passage impossible de « {STATUS_LABELS[current]} » à « {STATUS_LABELS[target]} »."
        )


NOTE_REFUSAL = (
    "Seul le conseiller qui a pris ce prospect en charge (ou un superviseur) peut y ajouter "
    "une note."
)


def check_can_write_notes(claimed_by_id: int | None, actor: Actor) -> None:
    """Notes are written by the lead's claimant or a supervisor, like any other change."""
    if actor.role not in ROLES:
        raise PermissionDeniedError("Seuls les conseillers peuvent ajouter une note.")
    check_can_work_on(claimed_by_id, actor, NOTE_REFUSAL)
