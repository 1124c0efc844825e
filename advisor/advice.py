"""The duty-of-advice record (devoir de conseil): drafted from the lead, edited, frozen as a PDF.

A lead has numbered versions. The highest one may be a draft, which the advisor edits; validating
it renders the PDF, stores it with its SHA-256 and freezes the version for good: the store refuses
any change to a frozen row (`FrozenRecordError`, checked on every ORM flush). A later correction is
a new version, drafted from the frozen one.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import Engine, event, func, inspect, select
from sqlalchemy.orm import Mapper, Session, sessionmaker

from advisor import audit
from advisor.errors import FrozenRecordError, InvalidInputError, LeadNotFoundError
from advisor.models import AdviceRecordRow, LeadRow
from advisor.pdf import render_advice_pdf
from advisor.schemas import MAX_ADVICE_FIELD_CHARS, AdviceVersion, LeadPublic
from advisor.store import LeadStore
from advisor.workflow import Actor, check_can_work_on
from common.db import utc_now
from product_catalog.errors import UnknownProductError
from product_catalog.schema import Catalogue
from product_catalog.vocabulary import (
    EMPLOYMENT_STATUS_LABELS,
    HOUSING_SITUATION_LABELS,
    PET_SPECIES_LABELS,
    VEHICLE_KIND_LABELS,
)

FAMILY_LABELS = {
    "single": "célibataire",
    "married": "marié(e)",
    "civil_partnership": "pacsé(e)",
    "cohabiting": "en concubinage",
    "divorced": "divorcé(e)",
    "widowed": "veuf ou veuve",
}
DOCUMENT_KIND_LABELS = {
    "conditions_generales": "Conditions générales",
    "document_information": "Document d'information (IPID)",
    "document_informations_cles": "Document d'informations clés (DIC)",
    "notice": "Notice",
}
SPECIAL_FLAGS = {
    "co_subscription": "Co-souscription",
    "dismembered_ownership": "Démembrement de propriété",
}


@event.listens_for(AdviceRecordRow, "before_update")
def _frozen_versions_never_change(_mapper: Mapper[Any], _connection: Any, row: Any) -> None:
    history = inspect(row).attrs.status.history
    previous = (list(history.deleted) or list(history.unchanged) or [None])[0]
    if previous == "frozen":
        raise FrozenRecordError(
            "Cette version du devoir de conseil est validée : elle ne change plus."
        )


@event.listens_for(AdviceRecordRow, "before_delete")
def _frozen_versions_are_kept(_mapper: Mapper[Any], _connection: Any, row: Any) -> None:
    if row.status == "frozen":
        raise FrozenRecordError("Une version validée du devoir de conseil ne peut être supprimée.")


def describe_situation(profile: dict[str, Any]) -> list[str]:
    """The person's situation in French, one fact per line, from the needs profile."""
    lines: list[str] = []
    if profile.get("age") is not None:
        lines.append(f"Âge : {profile['age']} ans")
    if profile.get("family_situation"):
        family = FAMILY_LABELS.get(profile["family_situation"], profile["family_situation"])
        lines.append(f"Situation familiale : {family}")
    if profile.get("number_of_dependants"):
        lines.append(f"Personnes à charge : {profile['number_of_dependants']}")
    if profile.get("employment_status"):
        status = profile["employment_status"]
        lines.append(f"Activité : {EMPLOYMENT_STATUS_LABELS.get(status, status)}")
    if profile.get("housing_status"):
        housing = profile["housing_status"]
        lines.append(f"Logement : {HOUSING_SITUATION_LABELS.get(housing, housing)}")
    for vehicle in profile.get("vehicles") or []:
        kind = vehicle.get("kind", "")
        lines.append(f"Véhicule : {VEHICLE_KIND_LABELS.get(kind, kind)}")
    for pet in profile.get("pets") or []:
        species = pet.get("species", "")
        lines.append(f"Animal : {PET_SPECIES_LABELS.get(species, species)}")
    for project in profile.get("projects") or []:
        lines.append(f"Projet : {project.get('kind', '')}")
    if profile.get("monthly_budget_eur") is not None:
        lines.append(f"Budget mensuel indiqué : {profile['monthly_budget_eur']:g} €")
    if profile.get("current_coverage"):
        lines.append(f"Contrats déjà détenus : {', '.join(profile['current_coverage'])}")
    return lines


def build_draft(lead: LeadPublic, catalogue: Catalogue | None) -> dict[str, Any]:
    """The first draft of the record, from what the conversation established."""
    products = []
    for recommendation in lead.recommendations:
        documents: list[dict[str, str]] = []
        if catalogue is not None:
            try:
                product = catalogue.get(recommendation["code"])
            except UnknownProductError:
                product = None
            if product is not None:
                documents = [
                    {
                        "kind": DOCUMENT_KIND_LABELS.get(document.kind, document.kind),
                        "title": document.title,
                        "filename": document.filename,
                        "version": lead.catalogue_version or catalogue.version[:12],
                    }
                    for document in product.documents
                ]
        products.append(
            {
                "code": recommendation["code"],
                "name": recommendation["name"],
                "reasons": "\n".join(recommendation.get("reasons", [])),
                "warnings": list(recommendation.get("warnings", [])),
                "documents": documents,
            }
        )
    special = list(lead.advisor_reasons)
    special += [label for key, label in SPECIAL_FLAGS.items() if lead.profile.get(key)]
    if lead.profile.get("legal_protection") not in (None, "none"):
        special.append(f"Mesure de protection juridique : {lead.profile['legal_protection']}")
    situation = describe_situation(lead.profile)
    needs = "Besoins exprimés lors de l'échange avec l'assistant :\n" + "\n".join(
        f"- {line}" for line in situation
    )
    return {
        "lead_reference": lead.reference,
        "client_name": lead.contact_name,
        "situation": situation,
        "demands_and_needs": needs,
        "products": products,
        "special_situations": "\n".join(special),
        "advisor_additions": "",
        "catalogue_version": lead.catalogue_version,
    }


class AdviceRecords:
    def __init__(self, engine: Engine, catalogue: Catalogue | None) -> None:
        self.leads = LeadStore(engine)
        self.catalogue = catalogue
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    def versions(self, reference: str) -> list[AdviceVersion]:
        lead_id = self.leads.lead_id(reference)
        with self._sessions() as session:
            rows = session.scalars(
                select(AdviceRecordRow)
                .where(AdviceRecordRow.lead_id == lead_id)
                .order_by(AdviceRecordRow.version)
            ).all()
            return [AdviceVersion.model_validate(row) for row in rows]

    def _draft_row(self, session: Session, lead_id: int) -> AdviceRecordRow | None:
        latest = session.scalar(
            select(AdviceRecordRow)
            .where(AdviceRecordRow.lead_id == lead_id)
            .order_by(AdviceRecordRow.version.desc())
            .limit(1)
        )
        return latest

    def open_draft(self, reference: str, actor: Actor) -> AdviceVersion:
        """The current draft; made from the lead (or the last frozen version) when there is none."""
        lead = self.leads.get_lead(reference)
        self._check_can_edit(lead, actor)
        with self.leads.transaction() as session:
            lead_row = session.scalar(select(LeadRow).where(LeadRow.reference == lead.reference))
            if lead_row is None:
                raise LeadNotFoundError(reference)
            latest = self._draft_row(session, lead_row.id)
            if latest is not None and latest.status == "draft":
                return AdviceVersion.model_validate(latest)
            content = build_draft(lead, self.catalogue) if latest is None else dict(latest.content)
            now = utc_now()
            row = AdviceRecordRow(
                lead_id=lead_row.id,
                version=(latest.version + 1) if latest else 1,
                status="draft",
                content=content,
                created_at=now,
                updated_at=now,
            )
            session.add(row)
            session.flush()
            audit.record(
                session, lead_row.id, actor, "advice_drafted", {"version": row.version}, now
            )
            return AdviceVersion.model_validate(row)

    def save_draft(self, reference: str, actor: Actor, edits: dict[str, Any]) -> AdviceVersion:
        """Apply the advisor's edits to the draft: the free texts and each product's reasons."""
        lead = self.leads.get_lead(reference)
        self._check_can_edit(lead, actor)
        for key, value in edits.items():
            texts = value.values() if isinstance(value, dict) else [value]
            for text in texts:
                if not isinstance(text, str):
                    raise InvalidInputError(f"Champ {key} : un texte est attendu.")
                if len(text) > MAX_ADVICE_FIELD_CHARS:
                    raise InvalidInputError(
                        f"Un champ dépasse {MAX_ADVICE_FIELD_CHARS} caractères : raccourcissez-le."
                    )
        with self.leads.transaction() as session:
            lead_id = session.scalar(select(LeadRow.id).where(LeadRow.reference == lead.reference))
            row = self._draft_row(session, lead_id) if lead_id is not None else None
            if row is None or row.status != "draft":
                raise FrozenRecordError(
                    "Aucun brouillon en cours : la dernière version est validée. "
                    "Ouvrez une nouvelle version pour la corriger."
                )
            content = dict(row.content)
            for key in ("demands_and_needs", "special_situations", "advisor_additions"):
                if key in edits:
                    content[key] = edits[key].replace("\r\n", "\n").strip()
            reasons = edits.get("product_reasons", {})
            content["products"] = [
                {**product, "reasons": reasons.get(product["code"], product["reasons"]).strip()}
                for product in content["products"]
            ]
            row.content = content
            row.updated_at = utc_now()
            audit.record(
                session,
                row.lead_id,
                actor,
                "advice_edited",
                {"version": row.version},
                row.updated_at,
            )
            return AdviceVersion.model_validate(row)

    def freeze(self, reference: str, actor: Actor) -> AdviceVersion:
        """Render the draft as a PDF, hash it and freeze the version."""
        lead = self.leads.get_lead(reference)
        self._check_can_edit(lead, actor)
        with self.leads.transaction() as session:
            lead_id = session.scalar(select(LeadRow.id).where(LeadRow.reference == lead.reference))
            row = self._draft_row(session, lead_id) if lead_id is not None else None
            if row is None or row.status != "draft":
                raise FrozenRecordError("Aucun brouillon à valider.")
            if not str(row.content.get("demands_and_needs", "")).strip():
                raise InvalidInputError("Les exigences et besoins du client sont à renseigner.")
            now = utc_now()
            pdf = render_advice_pdf(
                row.content, version=row.version, validated_by=actor.display_name, validated_at=now
            )
            row.pdf = pdf
            row.sha256 = hashlib.sha256(pdf).hexdigest()
            row.status = "frozen"
            row.frozen_at = now
            row.frozen_by = actor.username
            row.updated_at = now
            audit.record(
                session,
                row.lead_id,
                actor,
                "advice_frozen",
                {"version": row.version, "sha256": row.sha256},
                now,
            )
            return AdviceVersion.model_validate(row)

    def pdf(self, reference: str, version: int) -> tuple[bytes, str]:
        lead_id = self.leads.lead_id(reference)
        with self._sessions() as session:
            row = session.scalar(
                select(AdviceRecordRow).where(
                    AdviceRecordRow.lead_id == lead_id, AdviceRecordRow.version == version
                )
            )
            if row is None or row.pdf is None or row.sha256 is None:
                raise LeadNotFoundError(
                    f"Aucune version validée n°{version} du devoir de conseil pour {reference}."
                )
            return row.pdf, row.sha256

    def count_frozen(self) -> int:
        with self._sessions() as session:
            return (
                session.scalar(select(func.count()).where(AdviceRecordRow.status == "frozen")) or 0
            )

    @staticmethod
    def _check_can_edit(lead: LeadPublic, actor: Actor) -> None:
        check_can_work_on(
            lead.claimed_by_id,
            actor,
            "Prenez d'abord ce prospect en charge pour rédiger son devoir de conseil.",
        )
