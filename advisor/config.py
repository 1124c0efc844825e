"""Settings of the advisor workflow: the lead store, the CRM webhook, the GDPR export folder, the
Rasa tracker store that erasure and the retention purge reach, and the retention itself.

Read from ADVISOR_* variables and `.env` by the programs that use them (the action server composes
them in its own settings; `python -m advisor` reads them itself) and passed down from there.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.db import DEFAULT_ADVISOR_DATABASE_URL

DEFAULT_TRACKER_STORE_URL = "sqlite:///.run/rasa_tracker.db"  # as stack/settings.py
# Three years: what the consent text promises the person (docs/security.md, Personal data).
DEFAULT_RETENTION_DAYS = 1095


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
    # Rasa's SQL tracker store (its `events` table): GDPR erasure deletes the person's
    # conversations there and the retention purge the old ones. TRACKER_STORE_URL is the stack's
    # name for the same database; ADVISOR_TRACKER_STORE_URL wins when both are set.
    tracker_store_url: str = Field(
        default=DEFAULT_TRACKER_STORE_URL,
        validation_alias=AliasChoices(
            "ADVISOR_TRACKER_STORE_URL", "TRACKER_STORE_URL", "tracker_store_url"
        ),
    )
    # Days after their last activity that leads, ratings and conversations are kept
    # (`python -m advisor purge`).
    retention_days: int = Field(default=DEFAULT_RETENTION_DAYS, ge=1, le=36_500)
    # A new request in a conversation whose lead is still open updates that lead when it is
    # younger than this; an older (or closed) lead gets a new one beside it.
    open_lead_days: int = Field(default=30, ge=1, le=3_650)
