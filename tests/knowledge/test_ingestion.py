"""Ingestion: every format in, metadata from the catalogue, incremental runs, bad files reported."""

import sqlite3
from pathlib import Path

import pypdf
import pytest

from knowledge import ingestion
from knowledge.chunking import SectionChunker
from knowledge.ingestion import IngestionPipeline
from knowledge.interfaces import SearchFilters
from knowledge.stores.embedded import EmbeddedStore
from product_catalog.documents import DocumentCatalog, DocumentInfo
from tests.knowledge.documents import write_docx, write_image_pdf, write_pdf
from tests.knowledge.fakes import HashingEmbedder

pytestmark = pytest.mark.unit

CATALOG = DocumentCatalog.of(
    [DocumentInfo("cg-auto.pdf", "VG-AUTO", "auto", "Conditions générales Vergemont Auto", "cg")]
)
AUTO_PAGES = [
    ["Article 1 — Objet", "Le contrat assure votre voiture contre le vol et l'incendie."],
    ["Article 2 — Bris de glace", "Le pare-brise est remplacé sans franchise."],
]


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    write_pdf(folder / "cg-auto.pdf", AUTO_PAGES, header="Vergemont Assurances — CG Auto")
    write_docx(
        folder / "notice-sante.docx",
        [("h1", "Notice santé"), ("p", "Les lunettes sont remboursées une fois par an.")],
    )
    (folder / "faq.md").write_text(
        "# FAQ\n\nLe tiers payant évite l'avance de frais.\n", encoding="utf-8"
    )
    (folder / "aide.html").write_text(
        "<h1>Aide</h1><p>Déclarez un sinistre sous cinq jours ouvrés.</p>", encoding="utf-8"
    )
    return folder


@pytest.fixture
def store(tmp_path: Path) -> EmbeddedStore:
    return EmbeddedStore(tmp_path / "store")


def pipeline(store: EmbeddedStore, embedder: HashingEmbedder | None = None) -> IngestionPipeline:
    return IngestionPipeline(
        store,
        embedder or HashingEmbedder(),
        chunker=SectionChunker(chunk_size=300, chunk_overlap=40),
        catalog=CATALOG,
        progress=False,
    )


class TestIngestionPipeline:
    def test_ingests_every_format_with_page_section_and_product(
        self, documents: Path, store: EmbeddedStore
    ) -> None:
        report = pipeline(store).run([documents])

        assert sorted(report.ingested) == [
            "aide.html",
            "cg-auto.pdf",
            "faq.md",
            "notice-sante.docx",
        ]
        assert report.failed == []
        assert report.pages == 5
        found = store.lexical_search("pare-brise", 1)[0].chunk
        assert (found.document, found.page, found.section) == (
            "cg-auto.pdf",
            2,
            "Article 2 — Bris de glace",
        )
        assert (found.product_code, found.category) == ("VG-AUTO", "auto")
        assert found.metadata["title"] == "Conditions générales Vergemont Auto"
        assert "Vergemont Assurances — CG Auto" not in found.text
        guide = store.lexical_search("tiers payant", 1)[0].chunk
        assert (guide.product_code, guide.metadata) == ("", {"title": "FAQ"})

    def test_a_second_run_skips_unchanged_files_without_embedding_them(
        self, documents: Path, store: EmbeddedStore
    ) -> None:
        embedder = HashingEmbedder()
        pipeline(store, embedder).run([documents])
        embedded = embedder.passages_embedded

        report = pipeline(store, embedder).run([documents])

        assert sorted(report.skipped) == ["aide.html", "cg-auto.pdf", "faq.md", "notice-sante.docx"]
        assert report.ingested == []
        assert embedder.passages_embedded == embedded

    def test_a_store_cut_in_an_earlier_chunk_format_is_ingested_again(
        self, documents: Path, store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(ingestion, "CHUNK_FORMAT", "an-earlier-format")
        pipeline(store).run([documents])
        monkeypatch.undo()

        report = pipeline(store).run([documents])

        assert len(report.ingested) == 4
        assert report.skipped == []
        assert store.documents()["faq.md"].content_hash.endswith(f":{ingestion.CHUNK_FORMAT}")

    def test_a_changed_file_replaces_all_of_its_previous_chunks(
        self, documents: Path, store: EmbeddedStore
    ) -> None:
        pipeline(store).run([documents])
        write_pdf(documents / "cg-auto.pdf", [["Article 1 — Objet", "Le contrat couvre la grêle."]])

        report = pipeline(store).run([documents])

        assert report.ingested == ["cg-auto.pdf"]
        assert store.lexical_search("pare-brise", 4) == []
        assert store.lexical_search("grêle", 1)[0].chunk.document == "cg-auto.pdf"
        assert store.documents()["cg-auto.pdf"].chunk_count == 1

    def test_a_crash_while_writing_a_changed_file_keeps_the_old_version(
        self, documents: Path, store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        pipeline(store).run([documents])
        before = store.documents()["cg-auto.pdf"]
        write_pdf(documents / "cg-auto.pdf", [["Article 1 — Objet", "Le contrat couvre la grêle."]])

        class FailingConnection(sqlite3.Connection):
            def executemany(self, sql: str, rows: object) -> sqlite3.Cursor:
                raise sqlite3.OperationalError("disk I/O error")

        connect = sqlite3.connect
        monkeypatch.setattr(
            sqlite3, "connect", lambda *a, **k: connect(*a, factory=FailingConnection, **k)
        )
        crashing = EmbeddedStore(store.directory)
        report = pipeline(crashing).run([documents])
        crashing.close()
        monkeypatch.undo()

        assert [failure.file for failure in report.failed] == [str(documents / "cg-auto.pdf")]
        assert "disk I/O error" in report.failed[0].reason
        reopened = EmbeddedStore(store.directory)
        assert reopened.documents()["cg-auto.pdf"] == before
        assert reopened.lexical_search("pare-brise", 1)[0].chunk.document == "cg-auto.pdf"
        assert reopened.lexical_search("grêle", 1) == []

    def test_a_file_removed_from_the_directory_disappears_from_the_store(
        self, documents: Path, store: EmbeddedStore
    ) -> None:
        pipeline(store).run([documents])
        (documents / "faq.md").unlink()

        report = pipeline(store).run([documents])

        assert report.removed == ["faq.md"]
        assert "faq.md" not in store.documents()
        assert store.lexical_search("tiers payant", 4) == []

    def test_documents_from_another_directory_are_left_alone(
        self, documents: Path, store: EmbeddedStore, tmp_path: Path
    ) -> None:
        pipeline(store).run([documents])
        other = tmp_path / "other"
        other.mkdir()
        (other / "guide.md").write_text("# Guide\n\nUn guide.\n", encoding="utf-8")

        report = pipeline(store).run([other])

        assert report.removed == []
        assert len(store.documents()) == 5

    def test_bad_files_are_reported_one_by_one_while_the_others_are_ingested(
        self, documents: Path, store: EmbeddedStore
    ) -> None:
        write_image_pdf(documents / "scan.pdf")
        (documents / "vide.md").write_text("", encoding="utf-8")
        (documents / "casse.pdf").write_bytes(b"%PDF-1.4 garbage")
        writer = pypdf.PdfWriter(clone_from=documents / "cg-auto.pdf")
        writer.encrypt("secret")
        writer.write(documents / "protege.pdf")

        report = pipeline(store).run([documents, documents.parent / "absent.pdf"])

        reasons = {Path(failure.file).name: failure.reason for failure in report.failed}
        assert set(reasons) == {"scan.pdf", "vide.md", "casse.pdf", "protege.pdf", "absent.pdf"}
        assert "image-only" in reasons["scan.pdf"]
        assert "empty" in reasons["vide.md"]
        assert "malformed" in reasons["casse.pdf"]
        assert "encrypted" in reasons["protege.pdf"]
        assert "not found" in reasons["absent.pdf"]
        assert len(report.ingested) == 4
        assert set(store.documents()) == set(report.ingested)

    def test_a_file_that_turns_bad_keeps_its_previous_version(
        self, documents: Path, store: EmbeddedStore
    ) -> None:
        pipeline(store).run([documents])
        (documents / "cg-auto.pdf").write_bytes(b"%PDF-1.4 garbage")

        report = pipeline(store).run([documents])

        assert len(report.failed) == 1
        assert store.lexical_search("pare-brise", 1)[0].chunk.document == "cg-auto.pdf"

    def test_two_files_with_the_same_name_are_not_mixed_up(
        self, documents: Path, store: EmbeddedStore, tmp_path: Path
    ) -> None:
        twin = tmp_path / "twin"
        twin.mkdir()
        (twin / "faq.md").write_text("# Autre FAQ\n\nAutre chose.\n", encoding="utf-8")

        report = pipeline(store).run([documents, twin])

        assert [Path(f.file) for f in report.failed] == [twin / "faq.md"]
        assert "same name" in report.failed[0].reason

    def test_shows_a_progress_bar(
        self, documents: Path, store: EmbeddedStore, capsys: pytest.CaptureFixture[str]
    ) -> None:
        loud = IngestionPipeline(store, HashingEmbedder(), catalog=CATALOG, progress=True)

        loud.run([documents])

        assert "ingest" in capsys.readouterr().err

    def test_filters_work_on_ingested_metadata(self, documents: Path, store: EmbeddedStore) -> None:
        pipeline(store).run([documents])

        results = store.lexical_search(
            "contrat vol lunettes", 8, SearchFilters(product_code="VG-AUTO")
        )

        assert {r.chunk.document for r in results} == {"cg-auto.pdf"}
