"""Settings of the action server deployable: its own, the lead store's and the knowledge base's.

`python -m actions` reads them once at start-up (`common.startup.load_settings`, one line naming a
wrong variable) and passes them down: the adapters receive the components they need.
"""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from advisor.config import AdvisorSettings
from knowledge.settings import KnowledgeSettings


class ActionServerSettings(BaseSettings):
    """ACTION_SERVER_* and .env, with the components each read from their own variables:
    `advisor` from ADVISOR_* (lead store ADVISOR_DATABASE_URL, shared with the advisor console;
    CRM webhook) and `knowledge` from KNOWLEDGE_* (knowledge/settings.py)."""

    model_config = SettingsConfigDict(env_prefix="ACTION_SERVER_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=5055, ge=1, le=65535)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    # CPU threads of the embedding model (torch). One by default: a question is embedded in
    # about 20 ms on one thread, and more threads spin and starve the Rasa server on a small
    # shared machine (per-turn latency, docs/benchmarks.md).
    torch_threads: int = Field(default=1, ge=1, le=256)
    advisor: AdvisorSettings = Field(default_factory=AdvisorSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
