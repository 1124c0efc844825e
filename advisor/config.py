"""Settings of the advisor workflow: the lead store, the CRM webhook and the GDPR export folder.

Read from ADVISOR_* variables and `.env` by the programs that use them (the action server composes
them in its own settings; `python -m advisor` reads them itself) and passed down from there.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.db import DEFAULT_ADVISOR_DATABASE_URL


class AdvisorSettings(BaseSettings):
    """Read from ADVISOR_* variables and .env."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", env_file=".env", extra="ignore")

    # The lead store, shared by the action server (handoff) and the web app (console).
    database_url: str = DEFAULT_ADVISOR_DATABASE_URL
    # Outgoing webhook for new qualified leads (empty: none is sent).
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_attempts: int = Field(default=5, ge=1, le=20)
    webhook_backoff_s: float = Field(default=1.0, gt=0, le=300)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # `python -m advisor export` writes under this folder and nowhere else.
    export_dir: Path = Path(".run/exports")
