"""The insurer's documents (built corpus PDFs), so a cited source opens at its page.

`/documents/<file>.pdf#page=N`: the fragment is read by the browser's PDF viewer. Sources name a
document by its file name; the corpus keeps one folder per category, so the route looks the name
up in an index of the PDFs under the documents folder. Only plain PDF file names found in that index
are served: anything else (a path, `..`, an encoded slash, another extension) is answered 404.
"""

import re
import threading
import time
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import FileResponse

router = APIRouter(tags=["documents"])

SAFE_PDF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}\.pdf$")
NOT_FOUND = "Ce document n'existe pas ou n'est pas publié."


class DocumentIndex:
    """File name → path of every PDF under a folder.

    A name not in the index triggers a rescan (a document built after start-up), at most once
    every `rescan_interval_s` seconds so that requests for missing files cannot keep it busy.
    """

    def __init__(self, root: Path, rescan_interval_s: float = 10.0) -> None:
        self.root = root.resolve()
        self.rescan_interval_s = rescan_interval_s
        self._scanned_at = 0.0
        self._paths: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._scanned = False

    def _scan(self) -> None:
        paths: dict[str, Path] = {}
        if self.root.is_dir():
            for path in sorted(self.root.rglob("*.pdf")):
                resolved = path.resolve()
                if resolved.is_file() and resolved.is_relative_to(self.root):
                    paths.setdefault(path.name, resolved)
        self._paths = paths
        self._scanned = True
        self._scanned_at = time.monotonic()

    def find(self, name: str) -> Path | None:
        if not SAFE_PDF_NAME.fullmatch(name) or ".." in name:
            return None
        with self._lock:
            stale = time.monotonic() - self._scanned_at >= self.rescan_interval_s
            if not self._scanned or (name not in self._paths and stale):
                self._scan()
            path = self._paths.get(name)
        return path if path is not None and path.is_file() else None


def _index(request: Request) -> DocumentIndex:
    index = getattr(request.app.state, "document_index", None)
    if not isinstance(index, DocumentIndex):
        index = DocumentIndex(request.app.state.settings.documents_dir)
        request.app.state.document_index = index
    return index


# `:path` so that a name holding a slash reaches the check (and its French answer) too.
@router.get("/documents/{name:path}", response_class=FileResponse)
def get_document(name: str, request: Request) -> FileResponse:
    path = _index(request).find(name)
    if path is None:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail=NOT_FOUND)
    return FileResponse(
        path,
        media_type="application/pdf",
        content_disposition_type="inline",
        filename=path.name,
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )
