"""The split manifest: deterministic, up to date with its data, and no unit on two sides."""

import json
from pathlib import Path

import pytest

from knowledge.eval import splits
from knowledge.eval.report import kept_sections

pytestmark = pytest.mark.unit

needs_piaf = pytest.mark.skipif(not splits.PIAF_FILE.is_file(), reason="PIAF not available")


class TestAssign:
    def test_same_key_same_split_and_ratios_are_respected(self) -> None:
        keys = [f"doc-{i}.pdf#{i % 7}" for i in range(4000)]
        first = [splits.assign(key, (0.6, 0.2, 0.2)) for key in keys]
        assert first == [splits.assign(key, (0.6, 0.2, 0.2)) for key in keys]
        share = first.count("train") / len(first)
        assert 0.56 < share < 0.64

    def test_a_zero_ratio_never_gets_a_unit(self) -> None:
        assert all(splits.assign(str(i), (0.0, 0.3, 0.7)) != "train" for i in range(500))


class TestBuild:
    def test_pages_not_questions_are_split(self, tmp_path: Path) -> None:
        questions = tmp_path / "q.jsonl"
        rows = [
            {"question": f"Q{i} ?", "document": f"d{i % 5}.pdf", "page": i % 3 + 1}
            for i in range(60)
        ]
        questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
        unanswerable = tmp_path / "u.jsonl"
        unanswerable.write_text('{"question": "Quelle heure est-il ?"}\n', encoding="utf-8")
        piaf = tmp_path / "piaf.json"
        piaf.write_text(json.dumps({"data": [{"title": "A", "paragraphs": []}]}), encoding="utf-8")
        manifest = splits.build(piaf, [questions], unanswerable)
        own = manifest["own"]["splits"]
        every = [key for split in splits.SPLITS for key in own[split]]
        assert len(every) == len(set(every)) == 15  # 5 documents x 3 pages, each once
        assert sum(manifest["own"]["question_counts"].values()) == 60
        assert manifest["unanswerable"]["splits"]["train"] == []

    def test_more_train_data_keeps_an_artifact_valid_a_moved_held_out_unit_does_not(
        self, tmp_path: Path
    ) -> None:
        def manifest(rows: list[dict[str, object]]) -> splits.Manifest:
            questions = tmp_path / "q.jsonl"
            questions.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
            unanswerable = tmp_path / "u.jsonl"
            unanswerable.write_text('{"question": "Quelle heure est-il ?"}\n', encoding="utf-8")
            piaf = tmp_path / "piaf.json"
            piaf.write_text(json.dumps({"data": []}), encoding="utf-8")
            return splits.Manifest(splits.build(piaf, [questions], unanswerable))

        rows = [{"question": f"Q{i} ?", "document": f"d{i}.pdf", "page": 1} for i in range(40)]
        before = manifest(rows)
        recorded = {
            "split": "train",
            "train_digest": before.split_digest("train"),
            "dev_digest": before.split_digest("dev"),
            "test_digest": before.split_digest("test"),
            "salt": splits.SALT,
        }
        # A page that is train by the rule, new in the data: train grows, held-out units stay.
        new_page = next(
            f"n{i}.pdf" for i in range(100) if splits.page_rule(f"n{i}.pdf", 1) == "train"
        )
        grown = manifest([*rows, {"question": "Qn ?", "document": new_page, "page": 1}])
        assert grown.split_digest("train") != recorded["train_digest"]
        assert grown.held_out_unchanged(recorded)
        # A new held-out page: the artifact was not measured on today's held-out units.
        held_out = next(
            f"h{i}.pdf" for i in range(100) if splits.page_rule(f"h{i}.pdf", 1) == "test"
        )
        moved = manifest([*rows, {"question": "Qh ?", "document": held_out, "page": 1}])
        assert not moved.held_out_unchanged(recorded)
        assert not grown.held_out_unchanged(recorded | {"salt": "another"})
        assert not grown.held_out_unchanged(recorded | {"split": "dev"})


@needs_piaf
class TestCommittedManifest:
    def test_is_up_to_date_with_the_data(self) -> None:
        committed = splits.Manifest.load().data
        assert committed == splits.build(), "run: python -m knowledge.eval.splits build"

    def test_no_unit_is_on_two_sides(self) -> None:
        manifest = splits.Manifest.load()
        for section in ("piaf", "own", "unanswerable"):
            groups = [set(manifest.data[section]["splits"][s]) for s in splits.SPLITS]
            assert not (groups[0] & groups[1])
            assert not (groups[0] & groups[2])
            assert not (groups[1] & groups[2])

    def test_held_out_sets_are_large_enough_to_measure(self) -> None:
        manifest = splits.Manifest.load()
        assert len(manifest.unanswerable("test")) >= 60
        assert manifest.data["own"]["question_counts"]["test"] >= 60


def test_report_keeps_a_section_another_command_wrote(tmp_path: Path) -> None:
    report = tmp_path / "r.md"
    report.write_text("# old\n\n<!-- section written by x -->\n## Reader\n", encoding="utf-8")
    assert kept_sections(report) == "\n<!-- section written by x -->\n## Reader\n"
    assert kept_sections(tmp_path / "missing.md") == ""
