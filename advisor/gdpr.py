"""GDPR access and erasure of one person's data, by e-mail address or lead reference.

Export gathers every lead of the person with its transcript, notes, audit trail and duty-of-advice
versions into one JSON file, written only inside the export folder (paths that leave it are
refused). Erasure blanks the personal data in the leads, transcripts, notes, audit details and
advice records but keeps an anonymised skeleton — reference, dates, statuses, who did what and
when, product codes and the PDF hashes — so the pipeline figures and the audit trail stay whole.
Frozen advice records are blanked through a Core UPDATE: legal erasure is the one change allowed
to them, and it is itself audited.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, or_, select, update
from sqlalchemy.orm import Session

from advisor import audit
from advisor.errors import ExportPathError, InvalidInputError, LeadNotFoundError
from advisor.models import AdviceRecordRow, AuditEventRow, LeadRow, NoteRow
from advisor.schemas import AdviceExport, LeadExport, PersonExport
from advisor.store import LeadStore
from advisor.workflow import Actor
from common.contact import normalise_email
from common.db import utc_now

ERASED = "[effacé]"


def _lead_ids(session: Session, email: str | None, reference: str | None) -> list[int]:
    if (email is None) == (reference is None):
        raise InvalidInputError("Donnez soit une adresse e-mail, soit une référence de prospect.")
    if reference is not None:
        found = session.scalar(select(LeadRow.id).where(LeadRow.reference == reference.upper()))
        if found is None:
            raise LeadNotFoundError(f"Aucun prospect ne porte la référence « {reference} ».")
        return [found]
    address = normalise_email(email or "")
    local, _, domain = address.rpartition("@")
    rows = session.scalars(
        select(LeadRow.id).where(
            or_(LeadRow.contact_email == address, LeadRow.contact_email == f"{local}@{domain}")
        )
    ).all()
    if not rows:
        raise LeadNotFoundError("Aucun prospect n'est enregistré avec cette adresse e-mail.")
    return list(rows)


def export_person(
    engine: Engine, email: str | None = None, reference: str | None = None
) -> dict[str, Any]:
    """Every lead of the person, as the JSON document `write_export` writes (`PersonExport`)."""
    store = LeadStore(engine)
    with Session(engine) as session:
        ids = _lead_ids(session, email, reference)
        references = session.scalars(select(LeadRow.reference).where(LeadRow.id.in_(ids))).all()
        advice = {
            lead_id: [
                AdviceExport.model_validate(row)
                for row in session.scalars(
                    select(AdviceRecordRow)
                    .where(AdviceRecordRow.lead_id == lead_id)
                    .order_by(AdviceRecordRow.version)
                )
            ]
            for lead_id in ids
        }
    leads = [
        LeadExport.of(store.get_lead(ref), advice[lead_id])
        for lead_id, ref in zip(ids, references, strict=True)
    ]
    return PersonExport(exported_at=utc_now(), leads=leads).model_dump(mode="json")


def safe_export_path(target: str, export_dir: Path) -> Path:
    """The resolved target when it lies inside `export_dir`; ExportPathError otherwise."""
    root = export_dir.resolve()
    candidate = Path(target)
    resolved = (candidate if candidate.is_absolute() else root / candidate).resolve()
    if not resolved.is_relative_to(root) or resolved == root:
        raise ExportPathError(
            f"Le fichier d'export doit se trouver dans {root} (chemin refusé : {target})."
        )
    if resolved.suffix != ".json":
        raise ExportPathError("Le fichier d'export doit porter l'extension .json.")
    return resolved


def write_export(data: dict[str, Any], target: str, export_dir: Path) -> Path:
    path = safe_export_path(target, export_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    # O_EXCL: never overwrite (or follow a link planted at) an existing file.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2)
    return path


def erase_person(
    engine: Engine, actor: Actor, email: str | None = None, reference: str | None = None
) -> list[str]:
    """Blank the person's data; returns the references of the anonymised leads."""
    store = LeadStore(engine)
    now = utc_now()
    with store.transaction() as session:
        ids = _lead_ids(session, email, reference)
        leads = session.scalars(select(LeadRow).where(LeadRow.id.in_(ids))).all()
        for lead in leads:
            lead.contact_name = ERASED
            lead.contact_email = None
            lead.contact_phone = None
            lead.preferred_slot = None
            lead.conversation_id = f"erased:{lead.reference}"
            lead.profile = {}
            lead.transcript = []
            lead.advisor_reasons = []
            lead.recommendations = [
                {"code": r.get("code"), "name": r.get("name"), "category": r.get("category")}
                for r in lead.recommendations
            ]
            lead.erased_at = now
            lead.updated_at = now
        session.execute(update(NoteRow).where(NoteRow.lead_id.in_(ids)).values(text=ERASED))
        session.execute(
            update(AuditEventRow).where(AuditEventRow.lead_id.in_(ids)).values(details={})
        )
        session.execute(
            update(AdviceRecordRow)
            .where(AdviceRecordRow.lead_id.in_(ids))
            .values(content={}, pdf=None)
            .execution_options(synchronize_session=False)
        )
        for lead_id in ids:
            audit.record(session, lead_id, actor, "erased", {}, now)
        return [lead.reference for lead in leads]
