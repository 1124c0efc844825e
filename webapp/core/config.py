"""Settings of the web app deployable, read once by `python -m webapp` and kept on the app.

The web app composes no package's settings class: the lead store's URL (ADVISOR_DATABASE_URL,
shared with the action server) is the one setting it shares; the routes read `app.state.settings`.
It serves the catalogue from its YAML files: WEBAPP_DATABASE_URL, the database the catalogue is
loaded into, is read by Alembic and `python -m product_catalog load` (common.db).

`WEBAPP_ENVIRONMENT` defaults to `production`: only an explicit `local` (a developer's machine) or
`test` (the test suite) accepts the published development secret key, plain-HTTP cookies and the
public API documentation (docs/security.md).
"""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.db import (
    DEFAULT_ADVISOR_DATABASE_URL,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_STATEMENT_TIMEOUT_MS,
)

DEV_SECRET_KEY = "change-me-local-dev-secret-key"  # noqa: S105
# Outside development the key signs the console's sessions: at least 256 bits of randomness,
# e.g. `python -c "import secrets; print(secrets.token_urlsafe(48))"`.
MIN_PRODUCTION_SECRET_CHARS = 32
DEVELOPMENT_ENVIRONMENTS = frozenset({"local", "test"})

Environment = Literal["local", "test", "staging", "production"]


class WebAppSettings(BaseSettings):
    """Read from the environment (prefix WEBAPP_) and .env at start-up."""

    model_config = SettingsConfigDict(env_prefix="WEBAPP_", env_file=".env", extra="ignore")

    # Production behaviour unless `local` or `test` is asked for explicitly.
    environment: Environment = "production"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # The reverse proxies whose X-Forwarded-For names the client (uvicorn's forwarded_allow_ips:
    # addresses or networks, comma-separated, or "*" when only the proxy can reach the app). The
    # login throttle counts failures per client address, so it must be the visitor's, not the
    # proxy's.
    forwarded_allow_ips: str = "127.0.0.1"
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
    # PostgreSQL: how long to wait for a connection, and the longest a statement may run.
    database_connect_timeout_s: int = Field(default=DEFAULT_CONNECT_TIMEOUT_S, ge=1, le=120)
    database_statement_timeout_ms: int = Field(
        default=DEFAULT_STATEMENT_TIMEOUT_MS, ge=100, le=600_000
    )
    # How long an advisor console session lasts at most, and without any request.
    advisor_session_max_age_s: int = Field(default=8 * 3600, ge=60, le=7 * 24 * 3600)
    advisor_session_idle_s: int = Field(default=3600, ge=60, le=7 * 24 * 3600)
    # Login throttling: failures counted over the window, per account and per client address.
    login_window_s: int = Field(default=15 * 60, ge=10, le=24 * 3600)
    login_max_failures_per_account: int = Field(default=5, ge=1, le=1000)
    login_max_failures_per_address: int = Field(default=20, ge=1, le=10_000)
    # Password checks (argon2, ~0.1-0.2 s of CPU each) run at most this many at once.
    password_check_concurrency: int = Field(default=4, ge=1, le=64)

    @property
    def is_development(self) -> bool:
        """`local` or `test`: development secrets, plain-HTTP cookies, public API docs."""
        return self.environment in DEVELOPMENT_ENVIRONMENTS

    def check_secrets(self) -> None:
        """Refuse the development secret (or a short one) outside local development and tests."""
        if self.is_development:
            return
        if self.secret_key == DEV_SECRET_KEY:
            raise ValueError(
                f"WEBAPP_SECRET_KEY is the published development key, refused with "
                f"WEBAPP_ENVIRONMENT={self.environment}: set a random secret of your own "
                f"(or WEBAPP_ENVIRONMENT=local on a developer's machine)"
            )
        if len(self.secret_key) < MIN_PRODUCTION_SECRET_CHARS:
            raise ValueError(
                f"WEBAPP_SECRET_KEY is too short for WEBAPP_ENVIRONMENT={self.environment}: "
                f"at least {MIN_PRODUCTION_SECRET_CHARS} random characters"
            )
