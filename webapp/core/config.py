"""Settings of the web app deployable, read once by `python -m webapp` and kept on the app.

The web app composes no package's settings class: the lead store's URL (ADVISOR_DATABASE_URL,
shared with the action server) is the one setting it shares; the routes read `app.state.settings`.
It serves the catalogue from its YAML files: WEBAPP_DATABASE_URL, the database the catalogue is
loaded into, is read by Alembic and `python -m product_catalog load` (common.db).
"""

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.db import DEFAULT_ADVISOR_DATABASE_URL

DEV_SECRET_KEY = "change-me-local-dev-secret-key"  # noqa: S105


class WebAppSettings(BaseSettings):
    """Read from the environment (prefix WEBAPP_) and .env at start-up."""

    model_config = SettingsConfigDict(env_prefix="WEBAPP_", env_file=".env", extra="ignore")

    environment: str = Field(default="local", pattern="^(local|staging|production)$")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = Field(default=DEV_SECRET_KEY, min_length=16)
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$")
    # The Rasa server's socket.io channel as the visitor's browser reaches it (chat widget).
    rasa_public_url: str = Field(default="http://127.0.0.1:5005", pattern="^https?://")
    # The built corpus PDFs (python -m knowledge.corpus build), served under /documents/.
    documents_dir: Path = Path(__file__).resolve().parents[2] / "build" / "corpus"
    # The advisor lead store, shared with the action server (same variable, same default).
    advisor_database_url: str = Field(
        default=DEFAULT_ADVISOR_DATABASE_URL,
        validation_alias=AliasChoices("ADVISOR_DATABASE_URL", "WEBAPP_ADVISOR_DATABASE_URL"),
    )
    # How long an advisor console session lasts (signed cookie keyed by WEBAPP_SECRET_KEY).
    advisor_session_max_age_s: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)

    def check_secrets(self) -> None:
        """Refuse the development secret outside local development."""
        if self.environment != "local" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError("WEBAPP_SECRET_KEY must be changed outside local development")
