"""The web app in a thread (uvicorn), with a feedback store and a documents folder of its own."""

from __future__ import annotations

import threading
from pathlib import Path

import uvicorn

from common.db import engine_from_url
from feedback.store import FeedbackStore
from webapp.api.deps import install_feedback_store
from webapp.core.config import WebAppSettings
from webapp.main import create_app


# The smallest well-formed PDF with three pages, enough for a browser and for the route.
def tiny_pdf(pages: int = 3) -> bytes:
    objects = ["<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{3 + i} 0 R" for i in range(pages))
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>")
    objects += ["<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>"] * pages
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return bytes(out)


class WebAppThread:
    def __init__(self, port: int, rasa_url: str, tmp: Path, database_url: str) -> None:
        documents = tmp / "documents" / "auto"
        documents.mkdir(parents=True, exist_ok=True)
        (documents / "vg-test-conditions-generales.pdf").write_bytes(tiny_pdf())
        settings = WebAppSettings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            advisor_database_url=database_url,
            port=port,
            rasa_public_url=rasa_url,
            documents_dir=tmp / "documents",
        )
        self.app = create_app(settings)
        self.engine = engine_from_url(database_url)
        self.store = FeedbackStore(self.engine)
        install_feedback_store(self.app, self.store)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        self.thread.start()
        for _ in range(600):
            if self.server.started:
                return
            threading.Event().wait(0.05)
        raise RuntimeError("the web app did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.engine.dispose()
