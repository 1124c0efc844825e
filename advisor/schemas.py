"""The lead's schemas, around the `advisor_leads` table (advisor/models.py).

- creation: `LeadCreate`, what the conversation hands off (`advisor.handoff` names it
  `HandoffRequest` for the action server), with its contact, consent, products and transcript;
- changes: `LeadStatusUpdate`, `NoteCreate`, `AdviceUpdate`, what the API accepts;
- reading: `LeadSummary` (a queue row), `LeadPage`, `LeadPublic` (one lead with its notes and audit
  trail), `Dashboard`, `AdviceVersion`, what the store returns and the console shows, and
  `DashboardPublic`, `AdvicePublic`, what the API shows of the last two;
- leaving the house: `LeadExport` (GDPR access) and `WebhookPayload` (the CRM webhook), which share
  the lead's identity (`LeadBase`), its contact and its consent. Their dates are written with
  `datetime.isoformat()` (`+00:00`), as those files and payloads have always had them.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    field_validator,
    model_validator,
)

from advisor.workflow import STATUSES, TRANSITIONS
from common.channels import Channel
from common.contact import normalise_email, normalise_phone
from common.sources import SourceRef

if TYPE_CHECKING:
    from advisor.models import LeadRow

IsoDateTime = Annotated[
    datetime, PlainSerializer(lambda value: value.isoformat(), return_type=str, when_used="json")
]
MAX_NOTE_CHARS = 5_000
MAX_ADVICE_FIELD_CHARS = 10_000


class LeadSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ------------------------------------------------------------------ creation (the handoff)


class Contact(LeadSchema):
    """How the advisor reaches the person. At least one of email and phone is set."""

    name: str = Field(min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=32)
    preferred_slot: str | None = Field(default=None, max_length=200)

    @field_validator("email")
    @classmethod
    def _valid_email(cls, value: str | None) -> str | None:
        """A real address, domain in lower case; invalid ones are refused, never stored."""
        return None if value is None or not value.strip() else normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _valid_phone(cls, value: str | None) -> str | None:
        """A French number (0X XX XX XX XX, +33…, 0033…), stored as +33XXXXXXXXX."""
        return None if value is None or not value.strip() else normalise_phone(value)

    @model_validator(mode="after")
    def _reachable(self) -> Contact:
        if self.email is None and self.phone is None:
            raise ValueError("une adresse e-mail ou un numéro de téléphone est nécessaire")
        return self


class ConsentRecord(LeadSchema):
    """The consent the person gave before any personal data was kept."""

    text_version: str = Field(min_length=1, max_length=50)
    given_at: datetime
    channel: Channel


class RecommendedProduct(LeadSchema):
    code: str
    name: str
    category: str
    reasons: list[str]
    warnings: list[str] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)


class TranscriptTurn(LeadSchema):
    speaker: Literal["user", "bot"]
    text: str
    at: datetime | None = None


class LeadCreate(LeadSchema):
    conversation_id: str = Field(min_length=1, max_length=200)
    channel: Channel
    contact: Contact
    consent: ConsentRecord
    # A `product_catalog.profile.NeedsProfile` dumped with
    # `model_dump(mode="json", exclude_none=True)`.
    profile: dict[str, Any]
    recommendations: list[RecommendedProduct] = Field(default_factory=list)
    catalogue_version: str | None = None
    advisor_required: bool = False
    advisor_reasons: list[str] = Field(default_factory=list)
    # Why the person was handed off:
    # "asked", "recommendation", "misunderstanding", "special_situation".
    reason: str = "asked"
    transcript: list[TranscriptTurn] = Field(default_factory=list)


# ------------------------------------------------------------------ changes (API bodies)


class LeadStatusUpdate(BaseModel):
    status: str = Field(max_length=20)


class NoteCreate(BaseModel):
    text: str = Field(min_length=1, max_length=MAX_NOTE_CHARS)


class AdviceUpdate(BaseModel):
    demands_and_needs: str | None = Field(default=None, max_length=MAX_ADVICE_FIELD_CHARS)
    special_situations: str | None = Field(default=None, max_length=MAX_ADVICE_FIELD_CHARS)
    advisor_additions: str | None = Field(default=None, max_length=MAX_ADVICE_FIELD_CHARS)
    product_reasons: dict[str, Annotated[str, Field(max_length=MAX_ADVICE_FIELD_CHARS)]] = Field(
        default_factory=dict, max_length=50
    )


# ------------------------------------------------------------------ reading
# LeadSummary and LeadPublic list their fields in the order the API has always given them.


class LeadSummary(LeadSchema):
    """One row of the queue."""

    reference: str
    contact_name: str
    category: str | None
    channel: str
    level: str
    score: int
    status: str
    created_at: datetime
    claimed_by: str | None


class LeadPage(LeadSchema):
    items: list[LeadSummary]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


class NotePublic(LeadSchema):
    author: str
    text: str
    created_at: datetime


class AuditEvent(LeadSchema):
    actor: str
    action: str
    details: dict[str, Any]
    at: datetime


class LeadPublic(LeadSchema):
    """One lead as an advisor reads it, with its notes and its audit trail."""

    reference: str
    conversation_id: str
    channel: str
    status: str
    category: str | None
    level: str
    score: int
    qualification_rule: str
    reason: str
    contact_name: str
    contact_email: str | None
    contact_phone: str | None
    preferred_slot: str | None
    consent_text_version: str
    consent_given_at: datetime
    consent_channel: str
    profile: dict[str, Any]
    recommendations: list[dict[str, Any]]
    catalogue_version: str | None
    advisor_required: bool
    advisor_reasons: list[str]
    transcript: list[dict[str, Any]]
    claimed_by_id: int | None
    claimed_by: str | None
    claimed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    erased: bool
    notes: list[NotePublic] = Field(default_factory=list)
    audit: list[AuditEvent] = Field(default_factory=list)

    @property
    def next_statuses(self) -> list[str]:
        return [status for status in STATUSES if status in TRANSITIONS[self.status]]


class Dashboard(LeadSchema):
    """The supervisor's figures: leads per status, conversion, each advisor's leads."""

    per_status: dict[str, int]
    total: int
    conversion_rate: float | None
    workload: list[tuple[str, int, int]]  # advisor, open leads, won leads


class AdvisorWorkload(LeadSchema):
    advisor: str
    open: int
    won: int


class DashboardPublic(LeadSchema):
    """The dashboard as the API gives it: the workload as named fields."""

    per_status: dict[str, int]
    total: int
    conversion_rate: float | None
    workload: list[AdvisorWorkload]

    @classmethod
    def of(cls, dashboard: Dashboard) -> DashboardPublic:
        return cls(
            per_status=dashboard.per_status,
            total=dashboard.total,
            conversion_rate=dashboard.conversion_rate,
            workload=[
                AdvisorWorkload(advisor=name, open=open_, won=won)
                for name, open_, won in dashboard.workload
            ],
        )


class AdviceBase(LeadSchema):
    """One version of a lead's duty-of-advice record; read from its row or from a version."""

    model_config = ConfigDict(from_attributes=True)

    version: int
    status: str
    content: dict[str, Any]
    sha256: str | None
    frozen_at: datetime | None
    frozen_by: str | None


class AdviceVersion(AdviceBase):
    """A version as the store reads it: `AdviceVersion.model_validate(row)`."""

    created_at: datetime
    updated_at: datetime

    @property
    def frozen(self) -> bool:
        return self.status == "frozen"


class AdvicePublic(AdviceBase):
    """A version as the API shows it: `AdvicePublic.model_validate(version)`."""


# ------------------------------------------------------------------ leaving the house


class LeadBase(LeadSchema):
    """What names a lead in the files and messages that leave the application."""

    reference: str
    created_at: IsoDateTime
    channel: str
    status: str


class ContactPublic(LeadSchema):
    """The contact as stored, read from a lead's `contact_*` columns (an erased lead keeps
    neither e-mail nor phone): `ContactPublic.model_validate(lead)`."""

    model_config = ConfigDict(from_attributes=True)

    name: str = Field(validation_alias="contact_name")
    email: str | None = Field(validation_alias="contact_email")
    phone: str | None = Field(validation_alias="contact_phone")
    preferred_slot: str | None


class ConsentPublic(LeadSchema):
    """The consent as stored, read from a lead's `consent_*` columns."""

    model_config = ConfigDict(from_attributes=True)

    text_version: str = Field(validation_alias="consent_text_version")
    given_at: IsoDateTime = Field(validation_alias="consent_given_at")
    channel: str = Field(validation_alias="consent_channel")


class NoteExport(LeadSchema):
    author: str
    text: str
    at: IsoDateTime


class AuditEventExport(LeadSchema):
    actor: str
    action: str
    details: dict[str, Any]
    at: IsoDateTime


class AdviceExport(AdviceBase):
    """A duty-of-advice version in the access file (read from its row): no PDF, no validator."""

    frozen_at: IsoDateTime | None
    frozen_by: str | None = Field(exclude=True)


class LeadExport(LeadBase):
    """One lead in a person's GDPR access file: everything kept about them."""

    contact: ContactPublic
    consent: ConsentPublic
    profile: dict[str, Any]
    recommendations: list[dict[str, Any]]
    transcript: list[dict[str, Any]]
    notes: list[NoteExport]
    audit: list[AuditEventExport]
    duty_of_advice: list[AdviceExport]

    @classmethod
    def of(cls, lead: LeadPublic, advice: list[AdviceExport]) -> LeadExport:
        return cls(
            reference=lead.reference,
            created_at=lead.created_at,
            channel=lead.channel,
            status=lead.status,
            contact=ContactPublic.model_validate(lead),
            consent=ConsentPublic.model_validate(lead),
            profile=lead.profile,
            recommendations=lead.recommendations,
            transcript=lead.transcript,
            notes=[NoteExport(author=n.author, text=n.text, at=n.created_at) for n in lead.notes],
            audit=[
                AuditEventExport(actor=e.actor, action=e.action, details=e.details, at=e.at)
                for e in lead.audit
            ],
            duty_of_advice=advice,
        )


class PersonExport(LeadSchema):
    exported_at: IsoDateTime
    leads: list[LeadExport]


class QualificationPublic(LeadSchema):
    score: int
    level: str
    rule: str


class ProductBrief(LeadSchema):
    code: str | None
    name: str | None
    category: str | None
    reasons: list[str]


class WebhookLead(LeadBase):
    """A qualified lead as the CRM receives it (documented in docs/advisor.md)."""

    category: str | None
    qualification: QualificationPublic
    reason: str
    contact: ContactPublic
    consent: ConsentPublic
    recommendations: list[ProductBrief]
    advisor_required: bool
    advisor_reasons: list[str]

    @classmethod
    def of(cls, lead: LeadRow) -> WebhookLead:
        return cls(
            reference=lead.reference,
            created_at=lead.created_at,
            channel=lead.channel,
            status=lead.status,
            category=lead.category,
            qualification=QualificationPublic(
                score=lead.score, level=lead.level, rule=lead.qualification_rule
            ),
            reason=lead.reason,
            contact=ContactPublic.model_validate(lead),
            consent=ConsentPublic.model_validate(lead),
            recommendations=[
                ProductBrief(
                    code=product.get("code"),
                    name=product.get("name"),
                    category=product.get("category"),
                    reasons=product.get("reasons", []),
                )
                for product in lead.recommendations
            ],
            advisor_required=lead.advisor_required,
            advisor_reasons=lead.advisor_reasons,
        )


class WebhookPayload(LeadSchema):
    event: str
    delivery_id: int
    lead: WebhookLead


class WebhookErasedLead(LeadSchema):
    """The one thing a `lead.erased` notice says of the lead: which copy to delete."""

    reference: str
    erased_at: IsoDateTime


class WebhookErasure(LeadSchema):
    """Sent after a GDPR erasure for a lead the CRM received: delete your copy of it."""

    event: Literal["lead.erased"]
    delivery_id: int
    lead: WebhookErasedLead
