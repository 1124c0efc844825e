"""Grounded examples of the generator's fine-tune: passage windows, the mix of answerable,
distracted and unanswerable examples, the prompt shared with the answer service, and the sources
taken from the training side of the split manifest only."""

from pathlib import Path
from typing import ClassVar

import pytest

from finetune.grounded import (
    REFUSAL,
    Composed,
    DataReport,
    Item,
    MixSettings,
    Passage,
    answer_window,
    compose,
    piaf_items,
    to_example,
    triplet_items,
)
from finetune.records import Provenance, Triplet, write_triplets
from knowledge.eval.splits import MANIFEST, PIAF_FILE, Manifest, page_rule
from knowledge.interfaces import Chunk, ScoredChunk
from knowledge.prompts import build_prompt

pytestmark = pytest.mark.unit


def words(text: str) -> int:
    return len(text.split())


def passage(text: str, unit: str, page: int = 1) -> Passage:
    return Passage(f"doc-{unit}.pdf", page, text, unit)


class TestAnswerWindow:
    CONTEXT = (
        "Première phrase sans rapport. Deuxième phrase, toujours rien. Le délai de renonciation "
        "est de quatorze jours. Une phrase après. Encore une dernière phrase pour finir."
    )

    def test_whole_sentences_around_the_answer_within_the_budget(self) -> None:
        start = self.CONTEXT.index("quatorze jours")
        window, offset = answer_window(self.CONTEXT, start, start + 14, max_chars=90)
        assert len(window) <= 90
        assert window[offset : offset + 14] == "quatorze jours"
        assert window.endswith(".")
        assert window[0].isupper()

    def test_a_sentence_longer_than_the_budget_is_cut_at_words_around_the_answer(self) -> None:
        context = "Mot " * 60 + "RÉPONSE " + "mot " * 60
        start = context.index("RÉPONSE")
        window, offset = answer_window(context, start, start + 7, max_chars=50)
        assert len(window) <= 50
        assert window[offset : offset + 7] == "RÉPONSE"
        assert not window.startswith(("ot", "t "))
        assert window.split()[0] in ("Mot", "mot")


class TestMix:
    ITEMS: ClassVar[list[Item]] = [
        Item(f"Question {i} ?", f"réponse {i}", passage(f"texte {i}", f"u{i % 3}"), "piaf")
        for i in range(30)
    ]

    def test_answerable_distracted_and_unanswerable_examples_in_their_shares(self) -> None:
        pool = [item.passage for item in self.ITEMS]
        mix = MixSettings(distractor_share=0.5, unanswerable_share=0.25, seed=3)
        composed = compose(self.ITEMS, pool, mix)
        unanswerable = [c for c in composed if c.answer_index is None]
        assert len(unanswerable) == 10  # 25 % of 40
        two = [c for c in composed if c.answer_index is not None and len(c.passages) == 2]
        assert 8 <= len(two) <= 22
        for c in composed:
            if c.answer_index is None:
                # never a passage of the question's own unit: it cannot answer
                own = next(i.passage.unit for i in self.ITEMS if i.question == c.question)
                assert all(p.unit != own for p in c.passages)
                assert c.target == REFUSAL
            else:
                answering = c.passages[c.answer_index]
                assert all(p.unit != answering.unit for p in c.passages if p is not answering)
                assert c.target.endswith(f"[{c.answer_index + 1}]")
        assert {c.answer_index for c in two} == {0, 1}  # the answer is not always first

    def test_the_same_seed_gives_the_same_examples(self) -> None:
        pool = [item.passage for item in self.ITEMS]
        assert compose(self.ITEMS, pool, MixSettings(seed=1)) == compose(
            self.ITEMS, pool, MixSettings(seed=1)
        )

    def test_repeats_lay_an_item_out_several_times(self) -> None:
        pool = [item.passage for item in self.ITEMS]
        composed = compose(
            self.ITEMS[:2], pool, MixSettings(unanswerable_share=0.0), repeats=lambda item: 3
        )
        assert len(composed) == 6


class TestExample:
    def test_the_prompt_is_the_answer_services_and_the_target_cites_the_right_passage(
        self,
    ) -> None:
        first = passage("Le délai de renonciation est de 14 jours.", "a", page=3)
        other = passage("La franchise est de 90 €.", "b", page=7)
        composed = Composed("Quel délai ?", (other, first), 1, "14 jours.", "own")
        example = to_example(composed, "completion", words, max_tokens=300)
        assert example is not None
        chunks = [
            ScoredChunk(Chunk(f"p{i}", p.document, p.page, p.text), 1.0)
            for i, p in enumerate((other, first))
        ]
        expected, _ = build_prompt("Quel délai ?", chunks, "completion", words, 10_000)
        assert example.prompt == expected
        assert example.completion == "14 jours. [2]"

    def test_without_room_the_distractor_goes_first_then_the_example(self) -> None:
        answering = passage("mot " * 40, "a")
        distractor = passage("autre " * 40, "b")
        composed = Composed("Quoi ?", (distractor, answering), 1, "mot", "piaf")
        alone = to_example(composed, "completion", words, max_tokens=125)
        assert alone is not None
        assert alone.completion == "mot [1]"
        assert "autre" not in alone.prompt
        assert to_example(composed, "completion", words, max_tokens=60) is None

    def test_an_unanswerable_example_asks_for_the_refusal(self) -> None:
        composed = Composed("Quoi ?", (passage("Sans rapport.", "b"),), None, "", "piaf")
        example = to_example(composed, "mistral_instruct", words, max_tokens=300)
        assert example is not None
        assert example.completion == "Je ne sais pas."
        assert example.prompt.startswith("[INST]")
        assert example.prompt.endswith("[/INST]")


class TestSources:
    @pytest.mark.skipif(not PIAF_FILE.is_file(), reason="PIAF not available")
    def test_piaf_items_come_from_the_articles_of_the_split_only(self) -> None:
        manifest = Manifest.load(MANIFEST)
        train = piaf_items(PIAF_FILE, manifest, "train", 320)
        dev = piaf_items(PIAF_FILE, manifest, "dev", 320)
        train_units = {item.passage.unit for item in train}
        dev_units = {item.passage.unit for item in dev}
        assert train_units.isdisjoint(dev_units)
        assert {u.removeprefix("piaf:") for u in train_units} <= manifest.piaf_titles("train")
        assert all(item.answer in item.passage.text for item in train)
        assert max(len(item.passage.text) for item in train) <= 320

    def test_triplets_of_pages_outside_the_training_split_are_left_out(
        self, tmp_path: Path
    ) -> None:
        pages = {split: [] for split in ("train", "dev", "test")}  # type: dict[str, list[int]]
        for page in range(1, 200):
            pages[page_rule("vg-auto-faq.pdf", page)].append(page)
        train, test = pages["train"][0], pages["test"][0]

        def triplet(page: int, answer: str = "14 jours", origin: str = "") -> Triplet:
            return Triplet(
                "Quel est le délai ?",
                "Le délai est de 14 jours.",
                answer,
                Provenance(
                    "vg-auto-faq.pdf", page, f"c-{page}", product_code="VG-AUTO", origin=origin
                ),
            )

        path = tmp_path / "triplets.jsonl"
        write_triplets(
            path,
            [
                triplet(test),
                triplet(train),
                triplet(train, REFUSAL, origin=f"vg-auto-faq.pdf#{test}"),  # a test question
                triplet(train, REFUSAL, origin=f"vg-auto-faq.pdf#{train}"),
            ],
        )
        report = DataReport()
        items = triplet_items(path, report)
        assert [(item.passage.page, item.answers) for item in items] == [
            (train, True),
            (train, False),
        ]
        assert report.skipped["triplet_not_on_a_train_page"] == 2
        assert {item.source for item in items} == {"generated"}

    def test_a_refusal_triplet_is_laid_out_as_an_unanswerable_example(self) -> None:
        refusal = Item("Quoi ?", REFUSAL, passage("Sans rapport.", "b"), "generated", answers=False)
        answerable = Item("Qui ?", "Lui", passage("Lui.", "a"), "generated")
        composed = compose(
            [refusal, answerable], [refusal.passage], MixSettings(unanswerable_share=0.5)
        )
        targets = sorted(c.target for c in composed)
        assert targets == [REFUSAL, "Lui [1]"]  # the refusal counts in the unanswerable share
