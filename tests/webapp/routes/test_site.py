"""The public website, the widget's assets and the documents route (in-process, no browser)."""

import gzip
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.webapp.servers import tiny_pdf
from webapp.api.routes.documents import DocumentIndex
from webapp.core.config import WebAppSettings
from webapp.main import create_app

pytestmark = pytest.mark.unit

REPOSITORY = Path(__file__).resolve().parents[3]
BUNDLE = REPOSITORY / "webapp" / "static" / "widget" / "widget.js"


@pytest.fixture
def documents(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus" / "auto"
    folder.mkdir(parents=True)
    (folder / "vg-auto-ipid.pdf").write_bytes(tiny_pdf())
    (tmp_path / "secret.pdf").write_bytes(b"%PDF-1.4 not public")
    (tmp_path / "corpus" / "notes.txt").write_text("not a pdf")
    return tmp_path / "corpus"


@pytest.fixture
def client(documents: Path) -> Iterator[TestClient]:
    settings = WebAppSettings(
        _env_file=None,  # type: ignore[call-arg]
        environment="test",
        rasa_public_url="https://chat.vergemont.example/",
        documents_dir=documents,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


class TestWebsite:
    def test_home_page_is_french_and_embeds_the_widget_with_the_rasa_address(
        self, client: TestClient
    ) -> None:
        html = client.get("/").text
        assert '<html lang="fr">' in html
        assert "Vergemont" in html
        assert 'src="/static/widget/widget.js"' in html
        assert 'data-socket-url="https://chat.vergemont.example"' in html
        assert 'data-documents-url="/documents"' in html

    def test_home_page_lists_every_category_and_links_the_product_documents(
        self, client: TestClient
    ) -> None:
        html = client.get("/").text
        assert "Habitation" in html
        assert "Animaux" in html
        assert 'href="/documents/vg-auto-ipid.pdf"' in html

    def test_no_asset_comes_from_another_site(self, client: TestClient) -> None:
        html = client.get("/").text
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', html)
        assert external == []

    @pytest.mark.parametrize(
        ("path", "media_type"),
        [
            ("/static/widget/widget.js", "text/javascript"),
            ("/static/site/site.css", "text/css"),
            ("/static/site/logo.svg", "image/svg+xml"),
        ],
    )
    def test_assets_are_served_with_their_type(
        self, client: TestClient, path: str, media_type: str
    ) -> None:
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(media_type)

    @pytest.mark.parametrize(
        "path",
        [
            "/static/site/..%2F..%2Fmain.py",
            "/static/site/../../main.py",
            "/static/widget/.hidden.js",
            "/static/site/index.html",
            "/static/widget/nope.js",
        ],
    )
    def test_only_the_asset_files_are_served(self, client: TestClient, path: str) -> None:
        assert client.get(path).status_code == 404


class TestDocuments:
    def test_a_cited_document_opens_as_an_inline_pdf(self, client: TestClient) -> None:
        response = client.get("/documents/vg-auto-ipid.pdf")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["content-disposition"].startswith("inline")
        assert response.content.startswith(b"%PDF")

    @pytest.mark.parametrize(
        "name",
        [
            "..%2Fsecret.pdf",
            "..%2F..%2Fsecret.pdf",
            "%2E%2E%2Fsecret.pdf",
            "auto%2Fvg-auto-ipid.pdf",
            "secret.pdf",
            "notes.txt",
            ".vg-auto-ipid.pdf",
            "vg-auto-ipid.pdf%00.txt",
            "missing.pdf",
        ],
    )
    def test_path_traversal_and_unknown_names_are_refused_in_french(
        self, client: TestClient, name: str
    ) -> None:
        response = client.get(f"/documents/{name}")
        assert response.status_code == 404
        assert response.json()["detail"] == "Ce document n'existe pas ou n'est pas publié."

    def test_a_document_built_after_start_up_is_found(self, documents: Path) -> None:
        index = DocumentIndex(documents, rescan_interval_s=0)
        assert index.find("vg-new.pdf") is None
        (documents / "auto" / "vg-new.pdf").write_bytes(tiny_pdf())
        assert index.find("vg-new.pdf") == (documents / "auto" / "vg-new.pdf").resolve()

    def test_a_symlink_out_of_the_folder_is_not_served(self, documents: Path) -> None:
        (documents / "auto" / "link.pdf").symlink_to(documents.parent / "secret.pdf")
        assert DocumentIndex(documents).find("link.pdf") is None


class TestBundle:
    def test_the_committed_bundle_is_under_200_kb_gzipped(self) -> None:
        assert len(gzip.compress(BUNDLE.read_bytes(), compresslevel=9)) <= 200 * 1024

    def test_widget_sources_never_parse_html(self) -> None:
        sources = "\n".join(
            path.read_text() for path in (REPOSITORY / "widget" / "src").glob("*.js")
        )
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in sources, f"{sink} found in the widget sources"
