"""Robustness sets: both file shapes, and one row per original and per variant."""

import json
from pathlib import Path

import pytest

from finetune.errors import DataFileError
from finetune.robustness import read_robustness_set, variant_rows

pytestmark = pytest.mark.unit

ORIGINAL = "Le vol du véhicule est-il couvert ?"


def write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    return path


class TestRobustnessSet:
    def test_one_original_per_line_with_its_variants(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "set.jsonl",
            [
                {
                    "id": "own-1",
                    "source": "own",
                    "question": ORIGINAL,
                    "document": "auto.pdf",
                    "page": 2,
                    "answer": "Oui, après une franchise.",
                    "variants": {
                        "typos": "Le vol du véhiucle est-il couvert ?",
                        "paraphrase": "Si on me vole ma voiture, je suis assuré ?",
                    },
                }
            ],
        )
        (original,) = read_robustness_set(path)
        assert original.id == "own-1"
        assert set(original.variants) == {"typos", "paraphrase"}
        rows = variant_rows([original])
        assert [r["variant"] for r in rows] == ["original", "typos", "paraphrase"]
        assert {r["origin"] for r in rows} == {"own-1"}
        assert {(r["document"], r["page"]) for r in rows} == {("auto.pdf", 2)}

    def test_one_variant_per_line_is_grouped_by_its_original(self, tmp_path: Path) -> None:
        path = write(
            tmp_path / "set.jsonl",
            [
                {
                    "original": ORIGINAL,
                    "variant": "no_accents",
                    "document": "auto.pdf",
                    "page": 2,
                    "question": "Le vol du vehicule est-il couvert ?",
                },
                {
                    "origin": ORIGINAL,
                    "type": "lower_case",
                    "document": "auto.pdf",
                    "page": 2,
                    "question": ORIGINAL.lower(),
                },
            ],
        )
        (original,) = read_robustness_set(path)
        assert original.question == ORIGINAL
        assert original.variants == {
            "no_accents": "Le vol du vehicule est-il couvert ?",
            "lower_case": ORIGINAL.lower(),
        }

    def test_a_line_without_its_page_names_the_line(self, tmp_path: Path) -> None:
        path = write(tmp_path / "set.jsonl", [{"question": ORIGINAL, "variants": {}}])
        with pytest.raises(DataFileError, match=r"set\.jsonl:1"):
            read_robustness_set(path)
