"""Duty-of-advice records: drafted from the lead, edited, frozen as a hashed PDF, then immutable."""

from __future__ import annotations

import hashlib
import io

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from advisor.advice import AdviceRecords
from advisor.errors import FrozenRecordError, InvalidInputError, PermissionDeniedError
from advisor.models import AdviceRecordRow
from product_catalog.loader import load_catalogue
from tests.advisor.factories import handoff_request


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue()


@pytest.fixture
def claimed(store, advisor):
    reference = store.hand_off(handoff_request()).lead_reference
    store.claim(reference, advisor)
    return reference


@pytest.fixture
def records(engine, catalogue):
    return AdviceRecords(engine, catalogue)


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


class TestDraft:
    def test_the_draft_holds_needs_products_reasons_and_documents_with_versions(
        self, records, claimed, advisor
    ):
        draft = records.open_draft(claimed, advisor)
        assert draft.version == 1
        assert not draft.frozen
        assert "Âge : 38 ans" in draft.content["demands_and_needs"]
        product = draft.content["products"][0]
        assert product["code"] == "VG-AUTO"
        assert "obligatoire" in product["reasons"]
        kinds = {document["kind"] for document in product["documents"]}
        assert "Conditions générales" in kinds
        assert all(document["version"] == "test-catalogue" for document in product["documents"])

    def test_opening_twice_returns_the_same_draft(self, records, claimed, advisor):
        assert records.open_draft(claimed, advisor) == records.open_draft(claimed, advisor)

    def test_only_the_claimant_or_a_supervisor_may_edit(
        self, records, claimed, other_advisor, supervisor
    ):
        with pytest.raises(PermissionDeniedError):
            records.open_draft(claimed, other_advisor)
        assert records.open_draft(claimed, supervisor).version == 1

    def test_an_oversized_field_is_refused_and_the_draft_is_unchanged(
        self, records, claimed, advisor
    ):
        records.open_draft(claimed, advisor)
        records.save_draft(claimed, advisor, {"advisor_additions": "Client prudent."})
        with pytest.raises(InvalidInputError, match="dépasse"):
            records.save_draft(claimed, advisor, {"advisor_additions": "x" * 20_000})
        assert records.versions(claimed)[-1].content["advisor_additions"] == "Client prudent."


class TestFreeze:
    def test_validation_freezes_a_pdf_with_its_hash(self, records, claimed, advisor):
        records.open_draft(claimed, advisor)
        records.save_draft(
            claimed,
            advisor,
            {
                "advisor_additions": "Le client <b>préfère</b> la formule intermédiaire.",
                "product_reasons": {"VG-AUTO": "Voiture récente, stationnée dans la rue."},
            },
        )
        frozen = records.freeze(claimed, advisor)
        pdf, digest = records.pdf(claimed, 1)
        assert frozen.frozen
        assert digest == frozen.sha256 == hashlib.sha256(pdf).hexdigest()
        text = pdf_text(pdf)
        assert "Le client <b>préfère</b> la formule intermédiaire." in text
        assert "Voiture récente" in text
        assert "version 1" in text

    def test_a_frozen_version_cannot_be_edited_through_the_service(self, records, claimed, advisor):
        records.open_draft(claimed, advisor)
        records.freeze(claimed, advisor)
        with pytest.raises(FrozenRecordError):
            records.save_draft(claimed, advisor, {"advisor_additions": "modifié"})
        with pytest.raises(FrozenRecordError):
            records.freeze(claimed, advisor)

    def test_a_frozen_row_cannot_be_changed_or_deleted_even_directly(
        self, records, claimed, advisor, engine
    ):
        records.open_draft(claimed, advisor)
        records.freeze(claimed, advisor)
        with Session(engine) as session:
            row = session.query(AdviceRecordRow).one()
            row.content = {"demands_and_needs": "falsifié"}
            with pytest.raises(FrozenRecordError):
                session.commit()
        with Session(engine) as session:
            row = session.query(AdviceRecordRow).one()
            session.delete(row)
            with pytest.raises(FrozenRecordError):
                session.commit()
        pdf, digest = records.pdf(claimed, 1)
        assert hashlib.sha256(pdf).hexdigest() == digest

    def test_a_correction_is_a_new_version_and_the_old_one_stays(self, records, claimed, advisor):
        records.open_draft(claimed, advisor)
        first = records.freeze(claimed, advisor)
        second = records.open_draft(claimed, advisor)
        assert second.version == 2
        records.save_draft(claimed, advisor, {"advisor_additions": "Correction."})
        records.freeze(claimed, advisor)
        versions = records.versions(claimed)
        assert [v.version for v in versions] == [1, 2]
        assert versions[0].sha256 == first.sha256
        assert versions[1].content["advisor_additions"] == "Correction."
