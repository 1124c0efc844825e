"""The web app's templates and static files: one Jinja2 environment, one way to serve a file."""

import re
from pathlib import Path

from fastapi import HTTPException, status
from fastapi.responses import FileResponse
from fastapi.templating import Jinja2Templates

WEBAPP_DIR = Path(__file__).resolve().parents[1]
TEMPLATES = Jinja2Templates(directory=WEBAPP_DIR / "templates")
STATIC_DIR = WEBAPP_DIR / "static"
SAFE_ASSET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}\.(?:js|css|svg|png|map|txt)$")
MEDIA_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".map": "application/json",
    ".txt": "text/plain",
}


def asset_response(directory: Path, name: str) -> FileResponse:
    """The file `name` of `directory`; only plain file names of known types, else a French 404."""
    if not SAFE_ASSET_NAME.fullmatch(name) or ".." in name or not (directory / name).is_file():
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Fichier introuvable.")
    path = directory / name
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )
