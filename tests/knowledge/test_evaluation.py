"""Evaluation: metrics on known ranks, data files, and whole runs on tiny data."""

import json
from pathlib import Path

import pytest

from knowledge.errors import DatasetError
from knowledge.evaluation import (
    Question,
    evaluate_answers,
    evaluate_questions,
    evaluate_squad,
    first_hit_rank,
    load_judgments,
    load_questions,
    load_squad,
    metrics_from_ranks,
    report,
    rouge_l,
    with_judgments,
)
from knowledge.interfaces import Answer, Chunk, ScoredChunk
from knowledge.stores.embedded import EmbeddedStore
from tests.knowledge.fakes import HashingEmbedder
from tests.knowledge.test_stores import PASSAGES, put

pytestmark = pytest.mark.unit


def scored(document: str, page: int) -> ScoredChunk:
    return ScoredChunk(Chunk(f"{document}-{page}", document, page, "texte"), 1.0)


class TestMetrics:
    def test_hit_and_mrr_on_known_ranks(self) -> None:
        # ranks 1, 2, 4, beyond k (5), never found
        metrics = metrics_from_ranks([1, 2, 4, 5, None], k=4)

        assert metrics.questions == 5
        assert metrics.hit_at_1 == pytest.approx(1 / 5)
        assert metrics.hit_at_k == pytest.approx(3 / 5)
        assert metrics.mrr_at_k == pytest.approx((1 + 1 / 2 + 1 / 4) / 5)

    def test_first_hit_rank_needs_the_same_document_and_page(self) -> None:
        question = Question("q", "cg.pdf", 3)
        results = [scored("cg.pdf", 2), scored("autre.pdf", 3), scored("cg.pdf", 3)]

        assert first_hit_rank(results, question.is_hit) == 3
        assert first_hit_rank(results[:2], question.is_hit) is None

    def test_report_names_each_retriever_with_hit_at_1_hit_at_k_and_mrr(self) -> None:
        metrics = {"bm25": metrics_from_ranks([1, None], k=4)}

        document = report(metrics, data="q.jsonl")

        assert document == {
            "data": "q.jsonl",
            "k": 4,
            "questions": 2,
            "retrievers": {"bm25": {"questions": 2, "hit@1": 0.5, "hit@4": 0.5, "mrr@4": 0.5}},
        }


class TestQuestionsFile:
    def test_reads_questions_with_an_optional_answer(self, tmp_path: Path) -> None:
        path = tmp_path / "q.jsonl"
        path.write_text(
            '{"question": "Le vol est-il couvert ?", "document": "cg.pdf", "page": 2}\n\n'
            '{"question": "Franchise ?", "document": "docs/cg.pdf", "page": 3,'
            ' "answer": "150 €"}\n',
            encoding="utf-8",
        )

        assert load_questions(path) == [
            Question("Le vol est-il couvert ?", "cg.pdf", 2),
            Question("Franchise ?", "cg.pdf", 3, "150 €"),
        ]

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            ("pas du json", "not JSON"),
            ('{"question": "", "document": "a.pdf", "page": 1}', "question"),
            ('{"question": "q", "page": 1}', "document"),
            ('{"question": "q", "document": "a.pdf", "page": 0}', "page"),
            ('{"question": "q", "document": "a.pdf", "page": "2"}', "page"),
        ],
    )
    def test_names_the_line_of_a_bad_entry(self, tmp_path: Path, line: str, reason: str) -> None:
        path = tmp_path / "q.jsonl"
        path.write_text('{"question": "q", "document": "a.pdf", "page": 1}\n' + line + "\n")

        with pytest.raises(DatasetError, match=f"q.jsonl:2: .*{reason}"):
            load_questions(path)


SQUAD = {
    "version": "1.0",
    "data": [
        {
            "title": "Sport",
            "paragraphs": [
                {
                    "context": "Le football se joue à onze joueurs sur un terrain de gazon.",
                    "qas": [{"question": "Combien de joueurs au football ?", "id": "1"}],
                },
                {
                    "context": "Le tennis se joue avec une raquette et une balle jaune.",
                    "qas": [{"question": "Avec quoi joue-t-on au tennis ?", "id": "2"}],
                },
            ],
        },
        {
            "title": "Cuisine",
            "paragraphs": [
                {
                    "context": "La ratatouille mêle courgettes, aubergines et tomates.",
                    "qas": [{"question": "Quels légumes dans la ratatouille ?", "id": "3"}],
                }
            ],
        },
    ],
}


class TestSquad:
    def test_every_paragraph_is_one_passage_and_every_question_points_to_it(
        self, tmp_path: Path
    ) -> None:
        path = tmp_path / "squad.json"
        path.write_text(json.dumps(SQUAD), encoding="utf-8")

        data = load_squad(path)

        assert [p.chunk_id for p in data.passages] == ["0-0", "0-1", "1-0"]
        assert data.gold == ["0-0", "0-1", "1-0"]

    def test_a_run_finds_each_paragraph_with_every_retriever(self, tmp_path: Path) -> None:
        path = tmp_path / "squad.json"
        path.write_text(json.dumps(SQUAD), encoding="utf-8")

        metrics = evaluate_squad(path, HashingEmbedder(), k=1)

        assert set(metrics) == {"bm25", "dense", "hybrid"}
        for values in metrics.values():
            assert values.hit_at_k == 1.0

    def test_refuses_a_file_that_is_not_squad(self, tmp_path: Path) -> None:
        path = tmp_path / "squad.json"
        path.write_text('{"data": [{"title": "x"}]}', encoding="utf-8")

        with pytest.raises(DatasetError, match="not SQuAD format"):
            load_squad(path)


def test_questions_are_scored_against_the_ingested_store(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    for document in PASSAGES:
        put(store, document)
    questions = [
        Question("Les lunettes sont-elles remboursées ?", "faq-sante.md", 1),
        Question("Le bris de glace est-il couvert ?", "cg-auto.pdf", 2),
        Question("Le bris de glace est-il couvert ?", "cg-auto.pdf", 3),  # wrong page on purpose
    ]

    metrics = evaluate_questions(store, HashingEmbedder(), questions, k=1, modes=("bm25",))

    assert metrics["bm25"].hit_at_k == pytest.approx(2 / 3)


def test_the_product_filter_searches_only_each_questions_product(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    for document in PASSAGES:
        put(store, document)
    # "vol ... effraction" is in the auto and the home documents: the product decides
    questions = [
        Question("vol après effraction", "cg-habitation.pdf", 2, product_code="VG-HABITATION"),
        Question("vol après effraction", "cg-auto.pdf", 3, product_code="VG-AUTO"),
    ]

    filtered = evaluate_questions(
        store, HashingEmbedder(), questions, k=1, modes=("bm25",), product_filter=True
    )
    unfiltered = evaluate_questions(store, HashingEmbedder(), questions, k=1, modes=("bm25",))

    assert filtered["bm25"].hit_at_k == 1.0
    assert unfiltered["bm25"].hit_at_k == 0.5


def test_another_answering_page_counts_only_under_the_answering_page_rule(tmp_path: Path) -> None:
    store = EmbeddedStore(tmp_path)
    for document in PASSAGES:
        put(store, document)
    # written from a page that does not hold the words; another listed page does
    questions = [
        Question(
            "Le bris de glace est-il couvert ?",
            "cg-auto.pdf",
            3,
            other_pages=(("cg-auto.pdf", 2),),
        )
    ]

    strict = evaluate_questions(store, HashingEmbedder(), questions, k=1, modes=("bm25",))
    answering = evaluate_questions(
        store, HashingEmbedder(), questions, k=1, modes=("bm25",), hit="answering_page"
    )

    assert strict["bm25"].hit_at_k == 0.0
    assert answering["bm25"].hit_at_k == 1.0


class TestOtherAnsweringPages:
    def test_are_read_from_also_answered_on(self, tmp_path: Path) -> None:
        path = tmp_path / "q.jsonl"
        entry = {
            "question": "Délai ?",
            "document": "cg.pdf",
            "page": 2,
            "also_answered_on": [{"document": "faq.pdf", "page": 1}],
        }
        path.write_text(json.dumps(entry) + "\n", encoding="utf-8")

        (question,) = load_questions(path)

        assert question.other_pages == (("faq.pdf", 1),)
        assert question.is_answering_hit(Chunk("c", "faq.pdf", 1, "texte"))
        assert not question.is_hit(Chunk("c", "faq.pdf", 1, "texte"))

    @pytest.mark.parametrize(
        "value",
        ['"faq.pdf"', '[{"document": "faq.pdf"}]', '[{"document": "", "page": 1}]', "[[1]]"],
    )
    def test_a_malformed_list_names_the_line(self, tmp_path: Path, value: str) -> None:
        path = tmp_path / "q.jsonl"
        path.write_text(
            '{"question": "Délai ?", "document": "cg.pdf", "page": 2, '
            f'"also_answered_on": {value}}}\n',
            encoding="utf-8",
        )

        with pytest.raises(DatasetError, match=r"q.jsonl.*1.*also_answered_on"):
            load_questions(path)


class TestJudgments:
    def write(self, tmp_path: Path, *entries: dict[str, object]) -> Path:
        path = tmp_path / "judged.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
        return path

    def test_only_pages_judged_to_answer_become_hits(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path,
            {
                "question": "Délai ?",
                "document": "faq.pdf",
                "page": 1,
                "verdict": "answers",
                "evidence": "Le délai est de 14 jours.",
            },
            {
                "question": "Délai ?",
                "document": "ipid.pdf",
                "page": 2,
                "verdict": "partial",
                "evidence": "Un délai s'applique.",
            },
            {"question": "Délai ?", "document": "cg.pdf", "page": 9, "verdict": "no"},
        )
        question = Question("Délai ?", "cg.pdf", 2, other_pages=(("cg.pdf", 3),))

        (judged,) = with_judgments([question], load_judgments(path))

        assert judged.other_pages == (("cg.pdf", 3), ("faq.pdf", 1))
        assert judged.is_answering_hit(Chunk("c", "faq.pdf", 1, "texte"))
        assert not judged.is_answering_hit(Chunk("c", "ipid.pdf", 2, "texte"))
        assert not judged.is_hit(Chunk("c", "faq.pdf", 1, "texte"))

    def test_a_judgment_of_an_unknown_question_is_an_error(self, tmp_path: Path) -> None:
        path = self.write(
            tmp_path, {"question": "Autre ?", "document": "f.pdf", "page": 1, "verdict": "no"}
        )
        with pytest.raises(DatasetError, match="judged question not in the questions"):
            with_judgments([Question("Délai ?", "cg.pdf", 2)], load_judgments(path))

    @pytest.mark.parametrize(
        ("entry", "reason"),
        [
            ({"document": "f.pdf", "page": 1, "verdict": "no"}, "question"),
            ({"question": "Q ?", "document": "f.pdf", "page": 0, "verdict": "no"}, "page"),
            ({"question": "Q ?", "document": "f.pdf", "page": 1, "verdict": "yes"}, "verdict"),
            ({"question": "Q ?", "document": "f.pdf", "page": 1, "verdict": "answers"}, "evidence"),
        ],
    )
    def test_a_bad_line_is_named(
        self, tmp_path: Path, entry: dict[str, object], reason: str
    ) -> None:
        path = self.write(
            tmp_path, {"question": "Q ?", "document": "f.pdf", "page": 1, "verdict": "no"}, entry
        )
        with pytest.raises(DatasetError, match=rf"judged.jsonl.*2.*{reason}"):
            load_judgments(path)


class TestRougeL:
    def test_identical_texts_score_one_and_disjoint_texts_zero(self) -> None:
        assert rouge_l("Le délai est de 14 jours.", "le délai est de 14 jours") == 1.0
        assert rouge_l("Oui.", "Non.") == 0.0
        assert rouge_l("", "texte") == 0.0

    def test_is_the_f1_of_the_longest_common_subsequence(self) -> None:
        # common subsequence "délai 14 jours": 3 of 4 candidate words, 3 of 6 reference words
        score = rouge_l("délai de 14 jours", "le délai est bien 14 jours")
        # "de" is not in the reference: the LCS is "délai 14 jours", 3 of 4 and 3 of 6 words
        precision, recall = 3 / 4, 3 / 6
        assert score == pytest.approx(2 * precision * recall / (precision + recall))

    def test_keeps_french_accents_as_letters(self) -> None:
        # an ASCII-only tokenizer would split "été" and make these two texts share nothing
        assert rouge_l("été", "été") == 1.0
        assert rouge_l("été", "ete") == 0.0


class ScriptedService:
    """Answers from a table; counts the product it was asked about."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.products: list[str | None] = []

    def answer(self, question: str, product: str | None = None) -> Answer:
        self.products.append(product)
        return self.answers[question]


class TestEvaluateAnswers:
    def test_scores_each_answer_against_its_reference(self) -> None:
        service = ScriptedService(
            {
                "Délai ?": Answer("Le délai est de 14 jours.", (), "extractive", True),
                "Prix ?": Answer("Je ne sais pas.", (), "refusal", True),
            }
        )
        questions = [
            Question("Délai ?", "cg.pdf", 1, answer="Le délai est de 14 jours.", product_code="A"),
            Question("Prix ?", "cg.pdf", 2, answer="Vingt euros par mois.", product_code="B"),
            Question("Sans référence ?", "cg.pdf", 3),
        ]

        metrics = evaluate_answers(service, questions, product_filter=True)

        assert metrics.questions == 2
        assert metrics.rouge_l_mean == pytest.approx(0.5)
        assert metrics.modes == {"extractive": 1, "refusal": 1}
        assert metrics.validated_rate == 1.0
        assert service.products == ["A", "B"]

    def test_refuses_questions_without_reference_answers(self) -> None:
        with pytest.raises(DatasetError, match="reference answer"):
            evaluate_answers(ScriptedService({}), [Question("q", "cg.pdf", 1)])
