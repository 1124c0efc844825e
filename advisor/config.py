"""Settings of the advisor workflow shared by the action server, the web app and the CLI."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from advisor.database import DEFAULT_DATABASE_URL


class AdvisorSettings(BaseSettings):
    """Read from ADVISOR_* variables and .env."""

    model_config = SettingsConfigDict(env_prefix="ADVISOR_", env_file=".env", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    # Outgoing webhook for new qualified leads (empty: none is sent).
    webhook_url: str = ""
    webhook_secret: str = ""
    webhook_attempts: int = Field(default=5, ge=1, le=20)
    webhook_backoff_s: float = Field(default=1.0, gt=0, le=300)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
