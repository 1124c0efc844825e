"""The sentence selector: the sentence the chat shows among those of the passages read, its
fallback to word overlap, its wiring in the knowledge base, and its training groups."""

import concurrent.futures
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from knowledge.answering import AnswerService
from knowledge.errors import KnowledgeError
from knowledge.eval.datasets import Question
from knowledge.eval.splits import Manifest
from knowledge.interfaces import Chunk, ScoredChunk
from knowledge.pipelines import build_sentence_selector, selector_candidates
from knowledge.rerank.data import (
    MIN_SENTENCE_ROUGE,
    Group,
    own_sentence_groups,
    piaf_sentence_groups,
    unanswerable_sentence_groups,
)
from knowledge.rerank.evaluate import adopt_selector
from knowledge.rerank.reranker import SentenceSelector
from knowledge.rerank.train import group_loss
from knowledge.settings import KnowledgeSettings
from knowledge.validation import AnswerValidator
from tests.knowledge.helpers import FixedRetriever, chunk

GUIDE = chunk(
    "Article 4 - Carence. La garantie maladie démarre après un délai de carence de 45 jours. "
    "Le délai de carence ne s'applique pas aux accidents.",
    document="vg-animaux-conditions.pdf",
    product_code="VG-ANIMAUX",
    page=3,
)
FAQ = chunk(
    "Le délai de carence de la garantie chirurgie est de 120 jours pour une maladie.",
    document="vg-animaux-faq.pdf",
    product_code="VG-ANIMAUX",
    page=1,
)


class ScriptedScorer:
    """Scores the texts that hold `word` above the others; or fails."""

    precision = "float32"

    def __init__(self, word: str, fail: bool = False, titled: bool = False) -> None:
        self.word = word
        self.fail = fail
        self.titled = titled
        self.asked: list[list[str]] = []

    def warm_up(self) -> None:
        if self.fail:
            raise KnowledgeError("weights damaged")

    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        self.asked.append(list(passages))
        if self.fail:
            raise KnowledgeError("weights damaged")
        return [1.0 if self.word in passage else 0.0 for passage in passages]


def _service(scorer: ScriptedScorer) -> AnswerService:
    selector = SentenceSelector(scorer)  # type: ignore[arg-type]
    return AnswerService(
        FixedRetriever([GUIDE, FAQ]), AnswerValidator(), sentence_selector=selector
    )


def test_the_chat_shows_the_selectors_sentence_with_its_passage_cited_first() -> None:
    scorer = ScriptedScorer("chirurgie")
    answer = _service(scorer).answer("Quel est le délai de carence ?")
    assert answer.mode == "extractive"
    assert answer.text == (
        "Le délai de carence de la garantie chirurgie est de 120 jours pour une maladie."
    )
    assert answer.sources[0].document == "vg-animaux-faq.pdf"
    assert "« Le délai de carence de la garantie chirurgie" in answer.sources[0].passage
    # Every sentence of both passages was a candidate; the heading came with its sentence.
    [asked] = scorer.asked
    assert len(asked) == 4
    assert asked[0].startswith("Article 4 - Carence. La garantie maladie")


def test_a_titled_model_reads_each_sentence_under_its_passages_title_and_section() -> None:
    titled = Chunk(
        chunk_id="guide-3",
        document="vg-animaux-conditions.pdf",
        page=3,
        text="Pour un accident, il est de 3 jours. Pour une maladie, il est de 45 jours.",
        section="Délais de carence",
        product_code="VG-ANIMAUX",
        metadata={"title": "Assurance animaux — conditions générales"},
    )
    scorer = ScriptedScorer("maladie", titled=True)
    selector = SentenceSelector(scorer, candidates=4)  # type: ignore[arg-type]
    extract = selector.choose("Quel est le délai de carence ?", [ScoredChunk(titled, 1.0)], 0.0)
    assert extract is not None
    assert extract.sentences == ("Pour une maladie, il est de 45 jours.",)  # without its title
    [asked] = scorer.asked
    heading = "Assurance animaux — conditions générales — Délais de carence"
    assert asked == [
        f"{heading}\nPour un accident, il est de 3 jours.",
        f"{heading}\nPour une maladie, il est de 45 jours.",
    ]


class Scores:
    """Scores each text by the first of `table`'s words it holds (0.0 without any)."""

    titled = False
    precision = "float32"

    def __init__(self, table: dict[str, float]) -> None:
        self.table = table

    def warm_up(self) -> None:
        pass

    def scores(self, question: str, passages: Sequence[str]) -> list[float]:
        return [next((v for w, v in self.table.items() if w in p), 0.0) for p in passages]


EXCEPTION_THEN_VALUE = chunk(
    "Le délai de carence ne concerne pas le forfait prévention. "
    "Des délais de carence s'appliquent : 3 jours pour un accident, 45 jours pour une maladie.",
    document="vg-animaux-faq.pdf",
    product_code="VG-ANIMAUX",
)


def test_a_question_asking_for_a_quantity_prefers_a_close_sentence_that_states_one() -> None:
    # The model prefers the exception by less than the bonus: the sentence with the delays wins,
    # and the extract keeps the model's own score (the abstention model reads it).
    selector = SentenceSelector(Scores({"prévention": 2.5, "accident": 2.0}))  # type: ignore[arg-type]
    found = [ScoredChunk(EXCEPTION_THEN_VALUE, 1.0)]
    extract = selector.choose("Quel est le délai de carence ?", found, 0.0)
    assert extract is not None
    assert extract.sentences[0].startswith("Des délais de carence s'appliquent : 3 jours")
    assert extract.selector_score == 2.0
    # By more than the bonus, the model's choice stands.
    selector = SentenceSelector(Scores({"prévention": 3.5, "accident": 2.0}))  # type: ignore[arg-type]
    extract = selector.choose("Quel est le délai de carence ?", found, 0.0)
    assert extract is not None
    assert extract.selector_score == 3.5
    # A question that asks for no quantity gets the model's choice.
    selector = SentenceSelector(Scores({"prévention": 2.5, "accident": 2.0}))  # type: ignore[arg-type]
    extract = selector.choose("Le forfait prévention est-il soumis à carence ?", found, 0.0)
    assert extract is not None
    assert extract.selector_score == 2.5
    # Without the bonus, the model alone decides.
    selector = SentenceSelector(
        Scores({"prévention": 2.5, "accident": 2.0}),  # type: ignore[arg-type]
        quantity_bonus=0.0,
    )
    extract = selector.choose("Quel est le délai de carence ?", found, 0.0)
    assert extract is not None
    assert extract.selector_score == 2.5


def test_a_model_that_fails_to_load_does_not_keep_the_selection_slot() -> None:
    class LoadsOnSecondTry(ScriptedScorer):
        tries = 0

        @property  # type: ignore[override]
        def titled(self) -> bool:  # reading it loads the model, as PassageReranker's does
            self.tries += 1
            if self.tries == 1:
                raise KnowledgeError("weights damaged")
            return False

        @titled.setter
        def titled(self, value: bool) -> None:  # ScriptedScorer's constructor sets it
            pass

    selector = SentenceSelector(LoadsOnSecondTry("chirurgie"))  # type: ignore[arg-type]
    found = [ScoredChunk(GUIDE, 1.0), ScoredChunk(FAQ, 0.9)]
    with pytest.raises(KnowledgeError, match="weights damaged"):
        selector.choose("Quel est le délai de carence ?", found, 0.0)
    extract = selector.choose("Quel est le délai de carence ?", found, 0.0)  # not "busy"
    assert extract is not None
    assert "chirurgie" in " ".join(extract.sentences)


def test_a_failing_selector_falls_back_to_word_overlap_and_is_logged_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    scorer = ScriptedScorer("chirurgie", fail=True)
    service = _service(scorer)
    with caplog.at_level(logging.ERROR):
        first = service.answer("Quel est le délai de carence ?")
        second = service.answer("Quel est le délai de carence ?")
    assert first.mode == second.mode == "extractive"
    assert first.text == second.text
    assert first.text in {
        "La garantie maladie démarre après un délai de carence de 45 jours.",
        "Le délai de carence ne s'applique pas aux accidents.",
        "Le délai de carence de la garantie chirurgie est de 120 jours pour une maladie.",
    }
    assert len(scorer.asked) == 1  # not retried
    assert sum("sentence selector unavailable" in r.message for r in caplog.records) == 1


def test_a_selector_that_cannot_load_at_start_up_is_left_out() -> None:
    scorer = ScriptedScorer("chirurgie", fail=True)
    service = _service(scorer)
    service.warm_up()  # logged, not raised
    assert service.answer("Quel est le délai de carence ?").mode == "extractive"
    assert scorer.asked == []


def test_the_knowledge_base_uses_the_selector_only_when_enabled_and_present(
    tmp_path: Path,
) -> None:
    absent = KnowledgeSettings(llm_model="", sentence_selector_dir=tmp_path)
    assert build_sentence_selector(absent) is None
    (tmp_path / "reader.safetensors").write_bytes(b"")
    (tmp_path / "config.json").write_text("{}")
    present = KnowledgeSettings(llm_model="", sentence_selector_dir=tmp_path)
    assert isinstance(build_sentence_selector(present), SentenceSelector)
    off = KnowledgeSettings(
        llm_model="", sentence_selector_dir=tmp_path, sentence_selector_enabled=False
    )
    assert build_sentence_selector(off) is None


def test_the_settings_choose_how_many_sentences_the_selector_reads_and_its_bonus(
    tmp_path: Path,
) -> None:
    (tmp_path / "reader.safetensors").write_bytes(b"")
    (tmp_path / "config.json").write_text("{}")
    settings = KnowledgeSettings(
        llm_model="", sentence_selector_dir=tmp_path, sentence_selector_precision="float32"
    )
    selector = build_sentence_selector(settings)
    assert selector is not None
    assert (selector.candidates, selector.quantity_bonus) == (4, 1.0)
    chosen = settings.model_copy(
        update={"sentence_selector_candidates": 8, "sentence_selector_quantity_bonus": 0.0}
    )
    selector = build_sentence_selector(chosen)
    assert selector is not None
    assert (selector.candidates, selector.quantity_bonus) == (8, 0.0)


@pytest.mark.parametrize(
    ("precision", "quantization", "computes", "reads"),
    [
        ("float32", "none", "float32", 4),
        ("bfloat16", "none", "bfloat16", 8),
        ("float32", "int8", "float32", 4),
        ("auto", "int8", "float32", 4),
    ],
)
def test_a_selector_in_bfloat16_reads_eight_sentences_and_in_float32_four(
    tmp_path: Path, precision: str, quantization: str, computes: str, reads: int
) -> None:
    (tmp_path / "reader.safetensors").write_bytes(b"")
    (tmp_path / "config.json").write_text("{}")
    settings = KnowledgeSettings(
        llm_model="",
        sentence_selector_dir=tmp_path,
        sentence_selector_precision=precision,
        sentence_selector_quantization=quantization,
    )
    selector = build_sentence_selector(settings)
    assert selector is not None
    assert (selector.scorer.precision, selector.candidates) == (computes, reads)
    assert selector_candidates(settings) == reads


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bfloat16_only_where_the_cpu_computes_it(
    monkeypatch: pytest.MonkeyPatch, native: bool
) -> None:
    from knowledge.rerank import reranker

    monkeypatch.setattr(reranker, "cpu_has_native_bfloat16", lambda: native)
    assert reranker.resolve_precision("auto") == ("bfloat16" if native else "float32")
    assert reranker.resolve_precision("auto", "int8") == "float32"


def test_int8_weights_cannot_run_in_bfloat16() -> None:
    from knowledge.rerank.reranker import resolve_precision

    with pytest.raises(ValueError, match="int8"):
        resolve_precision("bfloat16", "int8")
    with pytest.raises(ValueError, match="precision"):
        resolve_precision("float16")


def test_piaf_sentence_groups_hold_the_answering_sentence_against_the_others(
    tmp_path: Path,
) -> None:
    context = (
        "Le port du Havre fut fondé en 1517. Il devint le premier port de France. "
        "Son architecte fut Auguste Perret."
    )
    other = "Rouen est traversée par la Seine. La ville compte une cathédrale gothique."
    articles = [
        {
            "title": "Le Havre",
            "paragraphs": [
                {
                    "context": context,
                    "qas": [
                        {
                            "id": "1",
                            "question": "Qui fut l'architecte du Havre ?",
                            "answers": [
                                {"text": "Auguste Perret", "answer_start": context.index("Auguste")}
                            ],
                        }
                    ],
                }
            ],
        },
        {"title": "Rouen", "paragraphs": [{"context": other, "qas": []}]},
    ]
    piaf = tmp_path / "squad.json"
    piaf.write_text(json.dumps({"data": articles}), "utf-8")
    manifest = _manifest(tmp_path, ["Le Havre", "Rouen"])
    [group] = piaf_sentence_groups(piaf, manifest, "train", negatives=6)
    # Each sentence under its article's title, as the selector reads a passage's sentences.
    assert group.positive == "Le Havre\nSon architecte fut Auguste Perret."
    assert set(group.negatives) == {
        "Le Havre\nLe port du Havre fut fondé en 1517.",
        "Le Havre\nIl devint le premier port de France.",
        "Rouen\nRouen est traversée par la Seine.",
        "Rouen\nLa ville compte une cathédrale gothique.",
    }


def test_own_sentence_groups_take_the_closest_sentence_and_leave_out_the_unmatched() -> None:
    answered = Question(
        question="Quel est le délai de carence maladie ?",
        document="d.pdf",
        page=1,
        answer="Le délai de carence est de 45 jours pour une maladie.",
    )
    unmatched = Question(
        question="Quel est le prix ?", document="d.pdf", page=1, answer="Douze euros par mois."
    )
    sentences = [
        "Le délai de carence est de 45 jours pour toute maladie.",
        "Les lunettes sont remboursées tous les deux ans.",
        "Le vol est couvert si les serrures sont forcées.",
    ]
    read = [(f"Animaux\n{s}", s) for s in sentences]  # what the model reads, the sentence
    groups, skipped = own_sentence_groups([answered, unmatched], lambda _: read)
    assert skipped == 1  # no sentence reaches MIN_SENTENCE_ROUGE for the price
    [group] = groups
    assert group.positive == f"Animaux\n{sentences[0]}"
    assert set(group.negatives) == {f"Animaux\n{s}" for s in sentences[1:]}
    assert 0 < MIN_SENTENCE_ROUGE < 1


def test_unanswerable_questions_are_groups_of_negatives_only() -> None:
    ski = "Sports\nLe ski est couvert."
    read = {
        "Couvrez-vous le parachutisme ?": [ski, ski],
        "Avez-vous une agence à Lyon ?": [],
    }
    [group] = unanswerable_sentence_groups(list(read), read.__getitem__)
    assert group.question == "Couvrez-vous le parachutisme ?"
    assert group.positive is None
    assert group.texts == group.negatives == (ski,)  # read once
    assert group.source == "unanswerable"
    answered = Group("q", "oui", ("non",), "own")
    assert answered.texts == ("oui", "non")


class FixedLogits(torch.nn.Module):
    """Returns the given logits whatever it reads."""

    def __init__(self, logits: list[float]) -> None:
        super().__init__()
        self.logits = torch.tensor(logits)

    def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        return self.logits[: ids.shape[0]]


def _loss(
    monkeypatch: pytest.MonkeyPatch, logits: list[float], groups: list[Group], no_answer: bool
) -> float:
    def encode(
        tokenizer: Any, questions: Sequence[str], passages: Sequence[str], length: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        assert len(questions) == len(passages) == len(logits)
        return torch.zeros((len(passages), 4), dtype=torch.long), torch.ones((len(passages), 4))

    monkeypatch.setattr("knowledge.rerank.train.encode_pairs", encode)
    model: Any = FixedLogits(logits)
    return float(group_loss(model, None, groups, 32, None, no_answer=no_answer))


def test_the_no_answer_logit_is_the_target_of_a_group_without_a_positive(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def loss(logits: list[float], groups: list[Group], no_answer: bool) -> float:
        return _loss(monkeypatch, logits, groups, no_answer)

    unanswerable = Group("Couvrez-vous le parachutisme ?", None, ("a", "b"), "unanswerable")
    answered = Group("Quel délai ?", "45 jours", ("a",), "own")
    # Every sentence far below the no-answer logit 0: nothing to learn on the unanswerable group.
    assert loss([-9.0, -9.0], [unanswerable], no_answer=True) < 1e-3
    assert loss([4.0, -9.0], [unanswerable], no_answer=True) > 3.0
    # With a positive, it must rise above 0 as well as above the negatives.
    assert loss([9.0, -9.0], [answered], no_answer=True) < 1e-3
    assert loss([-3.0, -9.0], [answered], no_answer=True) > 2.0
    assert loss([-3.0, -9.0], [answered], no_answer=False) < 0.01  # listwise: only the order
    with pytest.raises(ValueError, match="no-answer"):
        loss([0.0, 0.0], [unanswerable], no_answer=False)


def _manifest(tmp_path: Path, titles: list[str]) -> Manifest:
    empty: dict[str, list[str]] = {"train": [], "dev": [], "test": []}
    path = tmp_path / "splits.json"
    path.write_text(
        json.dumps(
            {
                "piaf": {"file": "squad.json", "sha256": "x", "splits": {**empty, "train": titles}},
                "own": {"files": {}, "splits": empty},
                "unanswerable": {"file": "u.jsonl", "sha256": "y", "splits": empty},
            }
        ),
        "utf-8",
    )
    return Manifest.load(path)


@pytest.mark.parametrize(
    ("difference", "interval", "piaf", "adopted"),
    [
        (0.03, (-0.02, 0.08), (0.64, 0.73), True),  # higher on average, not shown worse
        (0.03, (0.01, 0.05), (0.64, 0.63), False),  # worse at finding PIAF's sentence
        (-0.01, (-0.05, 0.03), (0.64, 0.73), False),  # lower on average
        (0.0, (-0.05, 0.05), (0.64, 0.73), False),
    ],
)
def test_the_adoption_rule_reads_dev_and_piaf(
    difference: float, interval: tuple[float, float], piaf: tuple[float, float], adopted: bool
) -> None:
    results = {
        "dev": {"float32_minus_words": {"rouge_l": difference, "interval": list(interval)}},
        "test": {"float32_minus_words": {"rouge_l": -1.0, "interval": [-1.0, -1.0]}},  # unread
        "piaf": {"words": piaf[0], "selector": piaf[1]},
    }
    assert adopt_selector(results) is adopted


def test_a_busy_selector_gives_the_word_overlap_sentence_at_once() -> None:
    """One selection at a time: a question arriving meanwhile does not queue behind it."""
    release = threading.Event()
    entered = threading.Event()

    class SlowScorer(ScriptedScorer):
        def scores(self, question: str, passages: Sequence[str]) -> list[float]:
            entered.set()
            release.wait(timeout=10)
            return super().scores(question, passages)

    service = _service(SlowScorer("chirurgie"))
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        first = pool.submit(service.answer, "Quel est le délai de carence ?")
        assert entered.wait(timeout=10)
        second = service.answer("Quel est le délai de carence ?")
        release.set()
        selected = first.result(timeout=10)
    word_overlap = AnswerService(FixedRetriever([GUIDE, FAQ]), AnswerValidator())
    assert "selector_busy" in second.notes
    assert second.text == word_overlap.answer("Quel est le délai de carence ?").text
    assert "chirurgie" in selected.text
    assert "selector_busy" not in selected.notes
    # The slot is free again, and the selector was not marked failed.
    assert "chirurgie" in service.answer("Quel est le délai de carence ?").text


def test_the_selector_reads_only_the_sentences_sharing_most_words_with_the_question() -> None:
    scorer = ScriptedScorer("chirurgie")
    service = AnswerService(
        FixedRetriever([GUIDE, FAQ]),
        AnswerValidator(),
        sentence_selector=SentenceSelector(scorer, candidates=2),  # type: ignore[arg-type]
    )
    service.answer("Quel est le délai de carence pour une chirurgie ?")
    [asked] = scorer.asked
    assert len(asked) == 2
    assert (
        "Le délai de carence de la garantie chirurgie est de 120 jours pour une maladie." in asked
    )


def test_generated_questions_come_from_the_train_pages_only() -> None:
    from knowledge.eval.splits import MANIFEST
    from knowledge.rerank.train import generated_questions

    manifest = Manifest.load(MANIFEST)
    train = generated_questions(manifest, "train")
    test = generated_questions(manifest, "test")
    assert train
    assert test
    assert {manifest.page_split(q.document, q.page) for q in train} == {"train"}
    assert not {(q.document, q.page) for q in train} & {(q.document, q.page) for q in test}
    assert all(q.answer for q in train)
