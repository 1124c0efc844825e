"""The committed data sets of fine-tuning: split invariants and sizes.

A page of the insurer's documents is train, dev or test for everything (its hand-written
questions, its generated triplets, the passages of the refusal examples); the held-out sets are
large enough to decide; the robustness and calibration sets are what their files say.
"""

import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from common.hashing import file_sha256
from finetune.eval_data import (
    AUTOMATIC,
    REGISTERS,
    calibration_rows,
    load_calibration,
    load_robustness,
)
from finetune.records import read_triplets
from finetune.sources import (
    GENERATED_FILE,
    GENERATED_REPORT_FILE,
    GENERATED_UNANSWERABLE_FILE,
    handwritten_files,
    load_handwritten,
    page_split,
)
from knowledge.eval import splits
from knowledge.text import content_stems

pytestmark = pytest.mark.unit

needs_piaf = pytest.mark.skipif(not splits.PIAF_FILE.is_file(), reason="PIAF not available")


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def folded(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", " ".join(text.lower().split()))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class TestPageLevelSplit:
    def test_generated_pages_follow_the_rule_of_hand_written_pages(self, tmp_path: Path) -> None:
        questions = tmp_path / "q.jsonl"
        questions.write_text(
            json.dumps({"question": "Q ?", "document": "a.pdf", "page": 1}), encoding="utf-8"
        )
        generated = tmp_path / "g.jsonl"
        rows = [{"question": "Q ?", "provenance": {"document": "a.pdf", "page": 1}}] + [
            {
                "question": f"Q{i} ?",
                "provenance": {"document": f"d{i}.pdf", "page": 2, "origin": f"e{i}.pdf#3"},
            }
            for i in range(30)
        ]
        generated.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
        unanswerable = tmp_path / "u.jsonl"
        unanswerable.write_text('{"question": "Quelle heure est-il ?"}\n', encoding="utf-8")
        piaf = tmp_path / "piaf.json"
        piaf.write_text(json.dumps({"data": [{"title": "A", "paragraphs": []}]}), encoding="utf-8")
        manifest = splits.Manifest(splits.build(piaf, [questions], unanswerable, [generated]))
        for split in splits.SPLITS:
            for key in manifest.data["generated"]["splits"][split]:
                assert splits.split_of_key(key) == split
        assert manifest.page_split("a.pdf", 1) == splits.page_rule("a.pdf", 1)
        assert "e7.pdf#3" in manifest.pages(splits.page_rule("e7.pdf", 3))
        assert sum(manifest.data["generated"]["triplet_counts"].values()) == 31


@pytest.fixture(scope="module")
def generated() -> list[dict[str, object]]:
    return lines(GENERATED_FILE) + lines(GENERATED_UNANSWERABLE_FILE)


@needs_piaf
class TestCommittedSplits:
    def test_every_generated_triplet_is_in_the_split_of_its_page(
        self, generated: list[dict[str, object]]
    ) -> None:
        manifest = splits.Manifest.load()
        for row in generated:
            provenance = row["provenance"]
            assert isinstance(provenance, dict)
            document, page = provenance["document"], provenance["page"]
            assert row["split"] == manifest.page_split(document, page) == page_split(document, page)

    def test_a_refusal_pairs_a_question_with_a_passage_of_the_same_split(self) -> None:
        for row in lines(GENERATED_UNANSWERABLE_FILE):
            provenance = row["provenance"]
            assert isinstance(provenance, dict)
            assert splits.split_of_key(str(provenance["origin"])) == row["split"]
            assert provenance["origin"] != f"{provenance['document']}#{provenance['page']}"

    def test_no_page_is_on_two_sides(self) -> None:
        manifest = splits.Manifest.load()
        pages = {split: manifest.pages(split) for split in splits.SPLITS}
        assert not pages["train"] & pages["dev"]
        assert not pages["train"] & pages["test"]
        assert not pages["dev"] & pages["test"]

    def test_no_held_out_hand_written_question_shares_a_page_with_training_data(
        self, generated: list[dict[str, object]]
    ) -> None:
        trained = {
            f"{row['provenance']['document']}#{row['provenance']['page']}"  # type: ignore[index]
            for row in generated
            if row["split"] == "train"
        }
        held_out = [
            q
            for q in load_handwritten(handwritten_files())
            if page_split(q.document, q.page) != "train"
        ]
        assert all(f"{q.document}#{q.page}" not in trained for q in held_out)


class TestGeneratedSet:
    def test_there_are_at_least_two_thousand_answerable_triplets(self) -> None:
        triplets, report = read_triplets(GENERATED_FILE)
        assert report.skipped == []
        assert len(triplets) >= 2000
        assert not any(t.is_refusal for t in triplets)
        refusals, _ = read_triplets(GENERATED_UNANSWERABLE_FILE)
        assert refusals
        assert all(t.is_refusal for t in refusals)

    def test_answers_are_text_of_their_passage_and_questions_name_the_product(self) -> None:
        triplets, _ = read_triplets(GENERATED_FILE)
        for t in triplets:
            # a list item's answer opens on the verdict its list's title gives ("Non : …")
            answer = t.answer.removeprefix("Non : ").removeprefix("Oui : ").rstrip(".")
            stems = content_stems(answer)
            assert folded(answer) in folded(t.context) or (
                len(stems & content_stems(t.context)) >= 0.8 * len(stems)
            ), t.answer
            assert t.question.endswith("?")
            assert t.provenance.product, t.question
            assert t.provenance.product in t.question, t.question

    def test_the_report_names_the_files_it_describes(self) -> None:
        report = json.loads(GENERATED_REPORT_FILE.read_text(encoding="utf-8"))
        for path in (GENERATED_FILE, GENERATED_UNANSWERABLE_FILE):
            entry = report["files"][path.name]
            assert entry["sha256"] == file_sha256(path)
            assert entry["lines"] == len(lines(path))


@needs_piaf
class TestHeldOutSizes:
    def test_held_out_questions_are_enough_to_decide(self) -> None:
        manifest = splits.Manifest.load()
        own_test = [
            q
            for q in load_handwritten(handwritten_files())
            if page_split(q.document, q.page) == "test" and q.answer
        ]
        piaf = json.loads(splits.PIAF_FILE.read_text(encoding="utf-8"))
        test_titles = manifest.piaf_titles("test")
        piaf_test = sum(
            len(paragraph["qas"])
            for article in piaf["data"]
            if article["title"] in test_titles
            for paragraph in article["paragraphs"]
        )
        assert len(own_test) >= 200  # the team's own, with a reference answer
        assert piaf_test + len(own_test) >= 300


class TestRobustnessSet:
    def test_at_least_a_hundred_held_out_originals_with_four_variants(self) -> None:
        items = load_robustness()
        assert len(items) >= 100
        assert len({item.question for item in items}) == len(items)
        for item in items:
            assert item.split != "train"
            assert page_split(item.document, item.page) == item.split
            assert set(item.variants) == {*AUTOMATIC, "paraphrase"}
            for name, perturb in AUTOMATIC.items():
                assert item.variants[name] == perturb(item.question), name

    def test_paraphrases_are_written_in_every_register_without_a_fixed_opening(self) -> None:
        items = load_robustness()
        registers = Counter(item.register for item in items)
        assert set(registers) == set(REGISTERS)
        assert min(registers.values()) >= 15
        openings = Counter(
            " ".join(item.variants["paraphrase"].lower().split()[:2]) for item in items
        )
        assert openings.most_common(1)[0][1] <= len(items) // 10
        assert all(folded(item.variants["paraphrase"]) != folded(item.question) for item in items)


class TestCalibrationSet:
    def test_at_least_two_hundred_answers_of_held_out_questions(self) -> None:
        rows = load_calibration()
        answerable = [row for row in rows if row["answer"]]
        assert len(answerable) >= 200
        assert all(row["split"] == "test" for row in rows)
        assert len({row["id"] for row in rows}) == len(rows)

    @needs_piaf
    def test_is_up_to_date_with_the_question_files(self) -> None:
        assert load_calibration() == calibration_rows()


def test_a_split_digest_ignores_the_growth_of_other_splits() -> None:
    data = {
        "own": {"splits": {"train": ["a.pdf#1"], "dev": [], "test": ["b.pdf#2"]}},
        "piaf": {"splits": {"train": ["Paris"], "dev": [], "test": []}},
    }
    grown = json.loads(json.dumps(data))
    grown["own"]["splits"]["test"].append("c.pdf#3")
    grown["generated"] = {"splits": {"train": ["d.pdf#4"], "dev": [], "test": []}}
    before, after = splits.Manifest(data), splits.Manifest(grown)
    assert before.split_digest("train") == after.split_digest("train")
    assert before.split_digest("test") != after.split_digest("test")
    assert after.split_digest("train", ("own", "generated")) != after.split_digest("train")
