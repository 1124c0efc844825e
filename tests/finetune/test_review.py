import json
from pathlib import Path

import pytest

from finetune.errors import DataFileError
from finetune.records import Provenance, Triplet
from finetune.review import apply_review, export_for_review

pytestmark = pytest.mark.unit


def triplets() -> list[Triplet]:
    context = "Les frais vétérinaires sont remboursés à 80 % dans la limite de 1 500 € par an."
    return [
        Triplet(q, context, a, Provenance("animaux.pdf", 2, "animaux.pdf#p2-0", source="llm:gemma"))
        for q, a in (
            ("Quel taux de remboursement ?", "80 %."),
            ("Quel plafond annuel ?", "1 500 € par an."),
            ("Qui paie ?", "Le voisin."),
        )
    ]


class TestExport:
    def test_each_task_carries_the_fields_both_tools_read(self, tmp_path: Path) -> None:
        path = tmp_path / "tasks.jsonl"
        assert export_for_review(triplets(), path) == 3
        task = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
        assert task["id"] == triplets()[0].triplet_id
        assert "Question : Quel taux de remboursement ?" in task["text"]  # Prodigy
        assert task["data"]["answer"] == "80 %."  # Label Studio
        assert task["meta"] == {"document": "animaux.pdf", "page": 2, "source": "llm:gemma"}


class TestImport:
    def test_prodigy_decisions_keep_accepted_and_corrected_triplets(self, tmp_path: Path) -> None:
        items = triplets()
        labels = tmp_path / "prodigy.jsonl"
        rows = [
            {"id": items[0].triplet_id, "answer": "accept"},
            {
                "id": items[1].triplet_id,
                "answer": "accept",
                "answer_edit": "1 500 € par an au plus.",
            },
            {"id": items[2].triplet_id, "answer": "reject"},
            {"id": "t-unknown", "answer": "accept"},
        ]
        labels.write_text("\n".join(json.dumps(r) for r in rows) + '\n{"id": ', encoding="utf-8")
        kept, report = apply_review(items, labels)
        assert [t.question for t in kept] == [
            "Quel taux de remboursement ?",
            "Quel plafond annuel ?",
        ]
        assert kept[1].answer == "1 500 € par an au plus."
        assert kept[0].provenance.source == "llm:gemma+review"
        assert report.as_dict() == {
            "decisions": 4,
            "accepted": 2,
            "rejected": 1,
            "undecided": 0,
            "unknown_ids": 1,
            "invalid": 1,
        }

    def test_a_label_studio_export_is_understood(self, tmp_path: Path) -> None:
        items = triplets()
        export = [
            {
                "data": {"id": items[0].triplet_id, "question": items[0].question},
                "annotations": [
                    {
                        "result": [
                            {
                                "from_name": "decision",
                                "type": "choices",
                                "value": {"choices": ["Accepter"]},
                            },
                            {
                                "from_name": "question",
                                "type": "textarea",
                                "value": {"text": ["Quel taux ?"]},
                            },
                        ]
                    }
                ],
            },
            {
                "data": {"id": items[2].triplet_id},
                "annotations": [
                    {"result": [{"from_name": "decision", "value": {"choices": ["Rejeter"]}}]}
                ],
            },
            {"data": {"id": items[1].triplet_id}, "annotations": []},
        ]
        labels = tmp_path / "label-studio.json"
        labels.write_text(json.dumps(export), encoding="utf-8")
        kept, report = apply_review(items, labels)
        assert [t.question for t in kept] == ["Quel taux ?"]
        assert (report.accepted, report.rejected, report.undecided) == (1, 1, 1)

    def test_a_broken_label_studio_file_names_the_line(self, tmp_path: Path) -> None:
        labels = tmp_path / "broken.json"
        labels.write_text('[{"data": {"id": "t-1"}},\n{', encoding="utf-8")
        with pytest.raises(DataFileError, match=r"broken.json:2"):
            apply_review(triplets(), labels)


def test_a_templated_triplet_shows_its_template_to_the_reviewer(tmp_path: Path) -> None:
    templated = Triplet(
        "Pour Alizé Auto, à combien s'élève la franchise ?",
        "La franchise est de 90 €.",
        "La franchise est de 90 €.",
        Provenance("auto.pdf", 3, "auto.pdf#p3-0", source="templates:amount", template="amount/0"),
    )
    path = tmp_path / "tasks.jsonl"
    export_for_review([templated], path)
    task = json.loads(path.read_text(encoding="utf-8"))
    assert task["meta"]["template"] == "amount/0"
    assert task["meta"]["source"] == "templates:amount"
