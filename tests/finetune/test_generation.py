import json
from pathlib import Path

import pytest

from finetune.generation import (
    DatasetGenerator,
    RefusalSettings,
    TemplateDatasetGenerator,
    build_prompt,
    does_not_answer,
    parse_pairs,
    refusal_triplets,
)
from finetune.records import REFUSAL_ANSWER, Provenance, Triplet
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


def titled(index: int, text: str, section: str, product: str = "AL-AUTO") -> Chunk:
    return Chunk(
        chunk_id=f"{product.lower()}.pdf#p{index}-0",
        document=f"{product.lower()}.pdf",
        page=index,
        text=text,
        section=section,
        product_code=product,
        metadata={"title": f"Conditions générales Alizé {product[3:].title()}"},
    )


PASSAGES = [
    titled(
        1,
        "La franchise est de 120 € par sinistre. Les rayures ne sont pas garanties.",
        "Article 3 — Bris de glace",
    ),
    titled(
        2,
        "Vous devez déclarer le vol dans les 48 heures. Nous remboursons les serrures.",
        "Article 4 — Vol",
    ),
    titled(3, "Merci de votre confiance et bonne route avec nous.", "Préambule"),
    titled(4, " ", "Article 5 — Vide"),
]


class ScriptedProposer:
    """A span proposer that always answers with the first word of the passage."""

    def propose(self, question: str, passage: str) -> tuple[int, int, float] | None:
        return 0, passage.find(" "), 0.9


class TestTemplateDatasetGenerator:
    def test_passages_give_pairs_counted_by_kind_without_a_model(self, tmp_path: Path) -> None:
        runner = TemplateDatasetGenerator(tmp_path)
        report = runner.run(PASSAGES)
        assert report.outcomes == {"templates": 2, "no_template": 1}
        assert report.empty_contexts == 1
        assert report.pairs == sum(report.kinds.values()) == 4
        assert report.passage_yield == pytest.approx(2 / 3)
        triplets = runner.triplets()
        assert {t.provenance.source for t in triplets} >= {"templates:amount", "templates:deadline"}
        assert all(t.provenance.product == "Alizé Auto" for t in triplets)
        assert all(t.provenance.template for t in triplets)

    def test_a_second_run_resumes_and_keeps_its_own_file(self, tmp_path: Path) -> None:
        TemplateDatasetGenerator(tmp_path).run(PASSAGES[:2])
        report = TemplateDatasetGenerator(tmp_path).run(PASSAGES)
        assert report.resumed == 2
        assert report.processed == 2
        assert (tmp_path / "raw-templates.jsonl").exists()
        assert not (tmp_path / "raw.jsonl").exists()  # an LLM run's records stay apart

    def test_a_span_proposer_verdict_is_kept_as_scores(self, tmp_path: Path) -> None:
        runner = TemplateDatasetGenerator(tmp_path, proposer=ScriptedProposer())
        runner.run(PASSAGES[:1])
        scores = [t.scores for t in runner.triplets()]
        assert {s["reader_confidence"] for s in scores} == {0.9}
        # "La" is in the first sentence (the amount), not in the exclusion's sentence
        assert sorted(s["reader_agrees"] for s in scores) == [0.0, 1.0]


class TestRefusals:
    def test_a_question_is_paired_with_a_passage_of_its_split_that_does_not_answer(
        self,
    ) -> None:
        answered = Triplet(
            "Pour Alizé Auto, à combien s'élève la franchise ?",
            PASSAGES[0].text,
            "La franchise est de 120 € par sinistre",
            Provenance("al-auto.pdf", 1, PASSAGES[0].chunk_id, product_code="AL-AUTO"),
        )
        same_split = {1: "train", 2: "train", 3: "test", 5: "train"}
        pool = [*PASSAGES[:3], titled(5, "La franchise est de 120 € par sinistre.", "Rappel")]
        found = list(
            refusal_triplets(
                [answered],
                pool,
                lambda document, page: same_split[page],
                RefusalSettings(share=1.0),
            )
        )
        assert len(found) == 1
        refusal = found[0]
        assert refusal.answer == REFUSAL_ANSWER
        assert refusal.is_refusal
        assert refusal.question == answered.question
        assert refusal.provenance.page == 2  # page 5 answers, page 3 is of another split
        assert refusal.provenance.origin == "al-auto.pdf#1"
        assert does_not_answer(answered.answer, refusal.context, 0.25)

    def test_the_share_of_refusals_follows_the_setting(self) -> None:
        triplets = [
            Triplet(
                f"Question numéro {i} sur la franchise ?",
                PASSAGES[0].text,
                f"Réponse {i}",
                Provenance("al-auto.pdf", 1, PASSAGES[0].chunk_id, product_code="AL-AUTO"),
            )
            for i in range(400)
        ]
        pool = [*PASSAGES[:3], titled(6, "Le logement est assuré dès la signature.", "A", "AL-HAB")]
        found = list(
            refusal_triplets(triplets, pool, lambda d, p: "train", RefusalSettings(share=0.25))
        )
        assert 70 <= len(found) <= 130
