"""GDPR access and erasure from the CLI: export by e-mail or reference, erasure with a skeleton."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.advice import AdviceRecords
from advisor.cli import main
from advisor.errors import ExportPathError
from advisor.gdpr import erase_person, export_person, safe_export_path
from advisor.workflow import CLI
from tests.advisor.factories import handoff_request


@pytest.fixture
def lead_with_history(store, advisor, engine):
    reference = store.hand_off(handoff_request()).lead_reference
    store.claim(reference, advisor)
    store.add_note(reference, advisor, "Mme Martin souhaite être rappelée le soir.")
    records = AdviceRecords(engine, None)
    records.open_draft(reference, advisor)
    records.freeze(reference, advisor)
    return reference


class TestExport:
    def test_export_by_email_holds_every_part_of_the_file(self, engine, lead_with_history):
        data = export_person(engine, email="JEANNE.MARTIN@exemple.fr".lower())
        (lead,) = data["leads"]
        assert lead["reference"] == lead_with_history
        assert lead["contact"]["phone"] == "+33612345678"
        assert lead["transcript"]
        assert lead["notes"][0]["text"].startswith("Mme Martin")
        assert {e["action"] for e in lead["audit"]} >= {"created", "claimed", "advice_frozen"}
        assert lead["duty_of_advice"][0]["sha256"]

    @pytest.mark.unit
    @pytest.mark.parametrize(
        "target", ["../../etc/passwd.json", "/etc/evil.json", "sub/../../x.json", "ok.txt", "."]
    )
    def test_paths_outside_the_export_folder_are_refused(self, tmp_path: Path, target: str):
        with pytest.raises(ExportPathError):
            safe_export_path(target, tmp_path / "exports")

    def test_the_cli_writes_the_export_inside_the_folder(
        self, database_url, lead_with_history, tmp_path, monkeypatch, capsys
    ):
        monkeypatch.setenv("ADVISOR_EXPORT_DIR", str(tmp_path / "exports"))
        code = main(
            [
                "--database-url",
                database_url,
                "export",
                "--reference",
                lead_with_history,
                "--output",
                "jeanne.json",
            ]
        )
        assert code == 0
        data = json.loads((tmp_path / "exports" / "jeanne.json").read_text(encoding="utf-8"))
        assert data["leads"][0]["reference"] == lead_with_history
        assert (
            main(
                [
                    "--database-url",
                    database_url,
                    "export",
                    "--reference",
                    lead_with_history,
                    "--output",
                    "../escape.json",
                ]
            )
            == 2
        )
        assert "chemin refusé" in capsys.readouterr().err
        assert not (tmp_path / "escape.json").exists()


class TestErase:
    def test_erasure_blanks_personal_data_and_keeps_the_skeleton(
        self, engine, store, lead_with_history
    ):
        erased = erase_person(engine, CLI, email="jeanne.martin@exemple.fr")
        assert erased == [lead_with_history]
        lead = store.get_lead(lead_with_history)
        assert lead.erased
        assert lead.contact_name == "[effacé]"
        assert lead.contact_email is None
        assert lead.contact_phone is None
        assert lead.transcript == []
        assert lead.profile == {}
        assert lead.notes[0].text == "[effacé]"
        assert lead.status == "claimed"
        assert [e.action for e in lead.audit][:2] == ["created", "claimed"]
        assert all(e.details == {} for e in lead.audit)
        assert lead.audit[-1].action == "erased"
        assert lead.recommendations == [
            {"code": "VG-AUTO", "name": "Vergemont Auto", "category": "auto"}
        ]
        (version,) = AdviceRecords(engine, None).versions(lead_with_history)
        assert version.content == {}
        assert version.sha256

    def test_the_erased_person_can_no_longer_be_found(self, engine, lead_with_history):
        erase_person(engine, CLI, reference=lead_with_history)
        with pytest.raises(Exception, match="Aucun prospect"):
            export_person(engine, email="jeanne.martin@exemple.fr")

    def test_the_cli_asks_for_confirmation(self, database_url, lead_with_history, store, capsys):
        assert (
            main(["--database-url", database_url, "erase", "--reference", lead_with_history]) == 2
        )
        assert not store.get_lead(lead_with_history).erased
        assert (
            main(
                ["--database-url", database_url, "erase", "--reference", lead_with_history, "--yes"]
            )
            == 0
        )
        assert store.get_lead(lead_with_history).erased
