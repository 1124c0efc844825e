"""GDPR access from the CLI: export by e-mail or reference, only inside the export folder (erasure:
tests/advisor/test_erasure.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from advisor.advice import AdviceRecords
from advisor.cli import main
from advisor.errors import ExportPathError
from advisor.gdpr import export_person, safe_export_path
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
