import json
from pathlib import Path

import pytest

from finetune.generation import DatasetGenerator, build_prompt, parse_pairs
from knowledge.interfaces import Chunk
from tests.finetune.fakes import ScriptedLLM, passage_of

pytestmark = pytest.mark.unit


def chunk(index: int, text: str | None = None) -> Chunk:
    return Chunk(
        chunk_id=f"doc.pdf#p{index}",
        document="doc.pdf",
        page=index,
        text=text
        if text is not None
        else f"Le délai de déclaration du sinistre numéro {index} est de 5 jours ouvrés "
        "après sa découverte.",
    )


def grounded_reply(prompt: str) -> str:
    """Continues the JSON the prompt opens, with pairs taken from the passage."""
    passage = passage_of(prompt)
    return (
        'Quel est le délai de déclaration ?", "answer": "'
        + passage.split(" est ")[1].rstrip(".")
        + '"}, {"question": "Que dit le contrat ?", "answer": "'
        + passage
        + '"}]'
    )


class TestParser:
    def test_a_valid_json_continuation_gives_its_pairs(self) -> None:
        parsed = parse_pairs('Qui ?", "answer": "Lui."}, {"question": "Où ?", "answer": "Ici."}]')
        assert parsed.status == "json"
        assert parsed.pairs == [("Qui ?", "Lui."), ("Où ?", "Ici.")]

    def test_a_list_cut_short_keeps_its_complete_objects(self) -> None:
        parsed = parse_pairs('Qui ?", "answer": "Lui."}, {"question": "Où ?", "answ')
        assert parsed.status == "repaired"
        assert parsed.pairs == [("Qui ?", "Lui.")]

    def test_pairs_are_found_in_broken_json(self) -> None:
        parsed = parse_pairs('Qui ?", "answer": "Lui." ,, {"question": "Où ?" , "réponse": "Ici"')
        assert parsed.status == "pattern"
        assert ("Où ?", "Ici") in parsed.pairs

    def test_question_and_answer_lines_are_understood(self) -> None:
        parsed = parse_pairs("\"\nQuestion : Qui paie ?\nRéponse : L'assureur.\n")
        assert parsed.status == "pattern"
        assert parsed.pairs == [("Qui paie ?", "L'assureur.")]

    def test_text_without_pairs_is_invalid(self) -> None:
        assert parse_pairs("Je ne sais pas écrire du JSON.").status == "invalid"

    def test_the_prompt_ends_on_the_opening_of_the_json(self) -> None:
        prompt = build_prompt("Le contrat couvre\nle vol.")
        assert prompt.endswith('[{"question": "')
        assert "Le contrat couvre le vol." in prompt


class TestDatasetGenerator:
    def test_pairs_are_written_with_their_provenance(self, tmp_path: Path) -> None:
        runner = DatasetGenerator(ScriptedLLM(grounded_reply), tmp_path, model_name="fake")
        report = runner.run([chunk(1), chunk(2)])
        assert report.processed == 2
        assert report.pairs == 4
        assert report.json_yield == 1.0
        triplets = runner.triplets()
        assert {t.provenance.page for t in triplets} == {1, 2}
        assert triplets[0].provenance.source == "llm:fake"
        assert triplets[0].answer == "de 5 jours ouvrés après sa découverte"

    def test_empty_contexts_invalid_output_and_failures_are_counted_and_skipped(
        self, tmp_path: Path
    ) -> None:
        def reply(prompt: str) -> str:
            return "n'importe quoi" if "numéro 2" in prompt else grounded_reply(prompt)

        llm = ScriptedLLM(reply)
        llm.fail_on = {3}
        contexts = [chunk(1), chunk(2), chunk(3), chunk(4, text="  "), chunk(5)]
        report = DatasetGenerator(llm, tmp_path).run(contexts)
        assert report.empty_contexts == 1
        assert report.llm_failures == 1
        assert report.outcomes["invalid"] == 1
        assert report.outcomes["json"] == 2
        assert report.pairs == 4
        assert len(llm.prompts) == 4  # the empty context never reaches the LLM

    def test_a_copied_worked_example_is_not_a_pair(self, tmp_path: Path) -> None:
        copy = (
            'Comment demander l\'assistance ?", "answer": '
            '"Par téléphone, avant toute dépense, 24 heures sur 24."}]'
        )
        report = DatasetGenerator(ScriptedLLM(copy), tmp_path).run([chunk(1)])
        assert report.outcomes["example_copied"] == 1
        assert report.pairs == 0
        assert report.json_yield == 0.0

    def test_an_interrupted_run_resumes_where_it_stopped(self, tmp_path: Path) -> None:
        contexts = [chunk(i) for i in range(1, 6)]
        first = ScriptedLLM(grounded_reply)
        first.interrupt_on = 3
        with pytest.raises(KeyboardInterrupt):
            DatasetGenerator(first, tmp_path).run(contexts)
        second = ScriptedLLM(grounded_reply)
        report = DatasetGenerator(second, tmp_path).run(contexts)
        assert report.resumed == 2
        assert report.processed == 3
        assert len(second.prompts) == 3
        assert report.pairs == 10
        lines = (tmp_path / "raw.jsonl").read_text(encoding="utf-8").splitlines()
        assert sorted(json.loads(line)["page"] for line in lines) == [1, 2, 3, 4, 5]

    def test_a_truncated_last_line_is_reported_and_its_context_done_again(
        self, tmp_path: Path
    ) -> None:
        contexts = [chunk(1), chunk(2)]
        DatasetGenerator(ScriptedLLM(grounded_reply), tmp_path).run(contexts)
        raw = tmp_path / "raw.jsonl"
        lines = raw.read_text(encoding="utf-8").splitlines()
        raw.write_text(lines[0] + "\n" + lines[1][:40], encoding="utf-8")  # killed mid-write
        again = ScriptedLLM(grounded_reply)
        report = DatasetGenerator(again, tmp_path).run(contexts)
        assert report.truncated_lines == 1
        assert report.resumed == 1
        assert len(again.prompts) == 1
        assert "numéro 2" in again.prompts[0]
        assert len(raw.read_text(encoding="utf-8").splitlines()) == 2
