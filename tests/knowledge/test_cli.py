"""`python -m knowledge`: ingest, ask, eval; exit 2 and one clear line on bad input.

The CLI runs in a subprocess with the small deterministic embedder of the tests
(KNOWLEDGE_EMBEDDING_MODEL=tests.knowledge.fakes:HashingEmbedder), so no model is loaded.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.knowledge.documents import write_pdf
from tests.knowledge.eval.test_datasets import SQUAD

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[2]


def run(*arguments: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "KNOWLEDGE_EMBEDDING_MODEL": "tests.knowledge.fakes:HashingEmbedder",
        **environment,
    }
    return subprocess.run(
        [sys.executable, "-m", "knowledge", *arguments],
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        env=env,
        timeout=120,
        check=False,
    )


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("python -m knowledge: error: ")
    return lines[0]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A store holding one catalogue PDF and one Markdown guide."""
    root = tmp_path_factory.mktemp("cli")
    documents = root / "docs"
    documents.mkdir()
    write_pdf(
        documents / "vg-auto-conditions-generales.pdf",
        [
            ["Article 1 — Objet", "Le contrat assure votre voiture."],
            ["Article 2 — Bris de glace", "Le pare-brise est remplacé sans franchise."],
        ],
    )
    (documents / "guide.md").write_text(
        "# Guide\n\nLe pare-brise fêlé se déclare en ligne.\n", encoding="utf-8"
    )
    store = root / "store"
    result = run("ingest", str(documents), "--store-dir", str(store), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert sorted(report["ingested"]) == ["guide.md", "vg-auto-conditions-generales.pdf"]
    assert report["pages"] == 3
    return documents, store


class TestIngestCommand:
    def test_a_second_run_reports_the_files_as_unchanged(self, ingested: tuple[Path, Path]) -> None:
        documents, store = ingested

        result = run("ingest", str(documents), "--store-dir", str(store), "--no-progress")

        assert result.returncode == 0
        assert "0 ingested, 2 unchanged, 0 removed, 0 failed" in result.stdout

    def test_a_bad_file_is_named_with_its_reason_and_the_exit_status_is_1(
        self, tmp_path: Path
    ) -> None:
        (tmp_path / "casse.pdf").write_bytes(b"%PDF-1.4 garbage")
        (tmp_path / "ok.md").write_text("# Ok\n\nUn texte.\n", encoding="utf-8")

        result = run("ingest", str(tmp_path), "--store-dir", str(tmp_path / "s"), "--no-progress")

        assert result.returncode == 1
        assert f"FAILED {tmp_path / 'casse.pdf'}: malformed PDF" in result.stdout
        assert "1 ingested" in result.stdout

    def test_a_missing_path_exits_2_with_one_line(self, tmp_path: Path) -> None:
        result = run("ingest", str(tmp_path / "absent"), "--store-dir", str(tmp_path))

        assert result.returncode == 2
        assert "no such file or directory" in one_error_line(result)


class TestAskCommand:
    def test_prints_the_passages_with_document_page_and_score(
        self, ingested: tuple[Path, Path]
    ) -> None:
        _, store = ingested

        result = run(
            "ask", "Le pare-brise est-il remplacé ?", "--passages", "--store-dir", str(store)
        )

        assert result.returncode == 0, result.stderr
        first = result.stdout.splitlines()[0]
        assert first.startswith("1. vg-auto-conditions-generales.pdf, page 2 — Article 2")
        assert "score" in first

    def test_json_output_is_structured_and_filters_by_product(
        self, ingested: tuple[Path, Path]
    ) -> None:
        _, store = ingested

        result = run(
            "ask", "pare-brise", "--product", "VG-AUTO", "--passages", "--json",
            "--store-dir", str(store),
        )  # fmt: skip

        payload = json.loads(result.stdout)
        assert payload["filters"] == {"product_code": "VG-AUTO"}
        assert payload["passages"]
        for passage in payload["passages"]:
            assert passage["product_code"] == "VG-AUTO"
            assert set(passage) >= {"rank", "score", "document", "page", "section", "text"}

    def test_answers_with_mode_and_sources_without_an_llm(
        self, ingested: tuple[Path, Path]
    ) -> None:
        _, store = ingested

        result = run(
            "ask", "Le pare-brise est-il remplacé ?", "--product", "VG-AUTO", "--json",
            "--store-dir", str(store), KNOWLEDGE_LLM_MODEL="",
        )  # fmt: skip

        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)
        assert payload["answer"]["mode"] in {"extractive", "refusal"}
        assert payload["sources"]
        assert all(s["document"].startswith("vg-auto") for s in payload["sources"])

    def test_an_unknown_option_exits_2_with_one_line(self) -> None:
        result = run("ask", "question", "--produit", "VG-AUTO")

        assert result.returncode == 2
        assert "unrecognized arguments: --produit" in one_error_line(result)

    def test_an_invalid_setting_exits_2_with_one_line(self, ingested: tuple[Path, Path]) -> None:
        result = run("ask", "question", KNOWLEDGE_ALPHA="2")

        assert result.returncode == 2
        assert "alpha" in one_error_line(result)


class TestEvalCommand:
    def test_questions_give_hit_and_mrr_for_each_retriever(
        self, ingested: tuple[Path, Path], tmp_path: Path
    ) -> None:
        _, store = ingested
        questions = tmp_path / "q.jsonl"
        questions.write_text(
            json.dumps(
                {
                    "question": "Le pare-brise est-il remplacé sans franchise ?",
                    "document": "vg-auto-conditions-generales.pdf",
                    "page": 2,
                }
            )
            + "\n",
            encoding="utf-8",
        )

        result = run("eval", "--questions", str(questions), "--store-dir", str(store), "--json")

        assert result.returncode == 0, result.stderr
        retrievers = json.loads(result.stdout)["retrievers"]
        assert set(retrievers) == {"bm25", "dense", "hybrid"}
        assert retrievers["bm25"] == {"questions": 1, "hit@1": 1.0, "hit@4": 1.0, "mrr@4": 1.0}

    def test_a_page_judged_to_answer_counts_under_the_answering_page_rule(
        self, ingested: tuple[Path, Path], tmp_path: Path
    ) -> None:
        _, store = ingested
        question = "Le pare-brise est-il remplacé sans franchise ?"
        questions = tmp_path / "q.jsonl"
        # written from a page that does not answer; the judged page does
        entry = {"question": question, "document": "vg-auto-conditions-generales.pdf", "page": 1}
        questions.write_text(json.dumps(entry) + "\n", encoding="utf-8")
        judged = tmp_path / "judged.jsonl"
        judgment = {
            "question": question,
            "document": "vg-auto-conditions-generales.pdf",
            "page": 2,
            "verdict": "answers",
            "evidence": "pare-brise",
        }
        judged.write_text(json.dumps(judgment) + "\n", encoding="utf-8")
        common = ["eval", "--questions", str(questions), "--store-dir", str(store), "--json"]

        plain = run(*common, "--modes", "bm25", "--hit", "answering-page")
        with_judged = run(
            *common, "--modes", "bm25", "--hit", "answering-page", "--judgments", str(judged)
        )

        assert plain.returncode == 0, plain.stderr
        assert with_judged.returncode == 0, with_judged.stderr
        assert json.loads(plain.stdout)["retrievers"]["bm25"]["hit@1"] == 0.0
        payload = json.loads(with_judged.stdout)
        assert payload["retrievers"]["bm25"]["hit@1"] == 1.0
        assert payload["judgments"] == str(judged)

    def test_judgments_need_the_answering_page_rule(self, tmp_path: Path) -> None:
        questions = tmp_path / "q.jsonl"
        questions.write_text('{"question": "q", "document": "a.pdf", "page": 1}\n')

        result = run("eval", "--questions", str(questions), "--judgments", str(questions))

        assert result.returncode == 2
        assert "--judgments goes with --questions and --hit answering-page" in one_error_line(
            result
        )

    def test_squad_data_is_indexed_and_evaluated(self, tmp_path: Path) -> None:
        data = tmp_path / "squad.json"
        data.write_text(json.dumps(SQUAD), encoding="utf-8")

        result = run("eval", "--squad", str(data), "--json", "--no-progress")

        assert result.returncode == 0, result.stderr
        payload = json.loads(result.stdout)
        assert payload["questions"] == 3
        assert payload["retrievers"]["hybrid"]["hit@4"] == 1.0

    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["--questions", "absent.jsonl"], "no such file: absent.jsonl"),
            (["--squad", "a.json", "--questions", "b.jsonl"], "not allowed with argument"),
            ([], "one of the arguments --questions --squad is required"),
        ],
    )
    def test_bad_arguments_exit_2_with_one_line(self, arguments: list[str], message: str) -> None:
        result = run("eval", *arguments)

        assert result.returncode == 2
        assert message in one_error_line(result)

    def test_a_malformed_questions_file_exits_2_naming_the_line(
        self, ingested: tuple[Path, Path], tmp_path: Path
    ) -> None:
        _, store = ingested
        questions = tmp_path / "q.jsonl"
        questions.write_text("{not json}\n", encoding="utf-8")

        result = run("eval", "--questions", str(questions), "--store-dir", str(store))

        assert result.returncode == 2
        assert "q.jsonl:1: not JSON" in one_error_line(result)

    def test_an_empty_store_is_an_error_that_says_to_ingest_first(self, tmp_path: Path) -> None:
        questions = tmp_path / "q.jsonl"
        questions.write_text('{"question": "q", "document": "a.pdf", "page": 1}\n')

        result = run(
            "eval",
            "--questions",
            str(questions),
            "--store-dir",
            str(tmp_path / "vide"),
            "--modes",
            "bm25",
        )

        assert result.returncode == 1
        assert "ingest" in one_error_line(result)
