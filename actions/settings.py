"""Settings of the action server deployable."""

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_ADVISOR_DATABASE_URL = "sqlite:///.run/advisor.db"


class ActionServerSettings(BaseSettings):
    """Read from the environment (prefix ACTION_SERVER_) and .env at start-up.

    The knowledge base reads its own KNOWLEDGE_* settings (knowledge/settings.py); the lead store
    is ADVISOR_DATABASE_URL, shared with the advisor console.
    """

    model_config = SettingsConfigDict(env_prefix="ACTION_SERVER_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=5055, ge=1, le=65535)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    # CPU threads of the embedding model (torch). One by default: a question is embedded in
    # about 20 ms on one thread, and more threads spin and starve the Rasa server on a small
    # shared machine (per-turn latency, docs/benchmarks.md).
    torch_threads: int = Field(default=1, ge=1, le=256)
    advisor_database_url: str = Field(
        default=DEFAULT_ADVISOR_DATABASE_URL,
        validation_alias=AliasChoices("ADVISOR_DATABASE_URL", "ACTION_SERVER_ADVISOR_DATABASE_URL"),
    )
