"""Settings of the advisor workflow: the lead store, the CRM webhook, the GDPR export folder, the
Rasa tracker store that erasure and the retention purge reach, and the retention itself.

Read from ADVISOR_* variables and `.env` by the programs that use them (the action server composes
them in its own settings; `python -m advisor` reads them itself) and passed down from there.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, model_validator
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
    # Outgoing webhook for new qualified leads (empty: none is sent), delivered by the outbox
    # worker (`python -m advisor deliver-webhooks --watch`, advisor/webhook.py).
    webhook_url: str = ""
    webhook_secret: str = ""
    # Attempts of one event before it is left `failed`; the n-th retry waits backoff × 2^(n-1),
    # at most max_backoff (defaults: 10 s, 20 s, 40 s… then hourly, about 3.5 hours in all).
    webhook_attempts: int = Field(default=12, ge=1, le=50)
    webhook_backoff_s: float = Field(default=10.0, gt=0, le=3600)
    webhook_max_backoff_s: float = Field(default=3600.0, gt=0, le=86_400)
    webhook_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # How long a worker holds the events it claimed (renewed before each POST; must outlast
    # one), how many it claims at once, and how often it looks for due events when idle.
    webhook_lease_s: float = Field(default=60.0, gt=0, le=3600)
    webhook_batch_size: int = Field(default=10, ge=1, le=500)
    webhook_poll_s: float = Field(default=2.0, gt=0, le=300)
    # The worker's /health and /ready (0: no probe server).
    webhook_worker_host: str = "127.0.0.1"
    webhook_worker_port: int = Field(default=8095, ge=0, le=65535)
    # A handoff's attempts at the lead store within the person's turn, and the first backoff
    # between them (doubled each time); what still fails is spooled by the action server.
    handoff_attempts: int = Field(default=3, ge=1, le=10)
    handoff_backoff_s: float = Field(default=0.2, ge=0, le=5)
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

    @model_validator(mode="after")
    def _lease_outlasts_a_post(self) -> AdvisorSettings:
        if self.webhook_lease_s <= self.webhook_timeout_s:
            raise ValueError(
                "ADVISOR_WEBHOOK_LEASE_S must be longer than ADVISOR_WEBHOOK_TIMEOUT_S"
            )
        return self
