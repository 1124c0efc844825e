"""The lead's schemas: what leaves the house keeps its date format; the queue's page count."""

from datetime import UTC, datetime

import pytest

from advisor.schemas import ConsentPublic, ContactPublic, LeadPage, NoteExport

pytestmark = pytest.mark.unit

AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


class StoredLead:
    """The contact and consent columns of an erased lead, as the ORM row carries them."""

    contact_name = "[effacé]"
    contact_email = None
    contact_phone = None
    preferred_slot = None
    consent_text_version = "2026-10"
    consent_given_at = AT
    consent_channel = "website"


class TestExportedShapes:
    def test_dates_are_written_with_isoformat_as_exports_always_had_them(self) -> None:
        note = NoteExport(author="alice", text="Rappeler.", at=AT)
        assert note.model_dump(mode="json")["at"] == "2026-11-20T09:30:00+00:00"

    def test_an_erased_lead_has_a_contact_without_email_or_phone(self) -> None:
        contact = ContactPublic.model_validate(StoredLead())
        consent = ConsentPublic.model_validate(StoredLead())
        assert contact.model_dump() == {
            "name": "[effacé]",
            "email": None,
            "phone": None,
            "preferred_slot": None,
        }
        assert consent.model_dump(mode="json")["given_at"] == "2026-11-20T09:30:00+00:00"


class TestLeadPage:
    @pytest.mark.parametrize(("total", "pages"), [(0, 1), (50, 1), (51, 2), (120, 3)])
    def test_page_count(self, total: int, pages: int) -> None:
        assert LeadPage(items=[], total=total, page=1, per_page=50).pages == pages
