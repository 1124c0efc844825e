"""GDPR access to one person's data, by lead reference, e-mail address or phone number.

Export gathers every lead of the person with its transcript, notes, audit trail and duty-of-advice
versions into one JSON file, written only inside the export folder (paths that leave it are
refused). Erasure, which reaches every store (the Rasa tracker and the ratings too), is
advisor/erasure.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from advisor.erasure import Person, find_leads
from advisor.errors import ExportPathError, LeadNotFoundError
from advisor.models import AdviceRecordRow, LeadRow
from advisor.schemas import AdviceExport, LeadExport, PersonExport
from advisor.store import LeadStore
from common.db import utc_now


def export_person(
    engine: Engine,
    email: str | None = None,
    reference: str | None = None,
    phone: str | None = None,
) -> dict[str, Any]:
    """Every lead of the person, as the JSON document `write_export` writes (`PersonExport`)."""
    store = LeadStore(engine)
    person = Person.of(reference=reference, email=email, phone=phone)
    with Session(engine) as session:
        ids = find_leads(session, person)
        if not ids:
            raise LeadNotFoundError("Aucun prospect n'est enregistré pour cette personne.")
        references = dict(
            session.execute(select(LeadRow.id, LeadRow.reference).where(LeadRow.id.in_(ids))).all()
        )
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
    leads = [LeadExport.of(store.get_lead(references[lead_id]), advice[lead_id]) for lead_id in ids]
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
