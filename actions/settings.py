"""Settings of the action server deployable: its own, the lead store's and the knowledge base's.

`python -m actions` reads them once at start-up (`common.startup.load_settings`, one line naming a
wrong variable) and passes them down: the adapters receive the components they need.
"""

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from advisor.config import AdvisorSettings
from common.logging import LogFormat
from knowledge.settings import KnowledgeSettings


class ActionServerSettings(BaseSettings):
    """ACTION_SERVER_* and .env, with the components each read from their own variables:
    `advisor` from ADVISOR_* (lead store ADVISOR_DATABASE_URL, shared with the advisor console;
    CRM webhook) and `knowledge` from KNOWLEDGE_* (knowledge/settings.py)."""

    model_config = SettingsConfigDict(env_prefix="ACTION_SERVER_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=5055, ge=1, le=65535)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
    # `json`: one JSON object per line (common/logging.py); LOG_FORMAT is shared by every server.
    log_format: LogFormat = Field(
        default="text", validation_alias=AliasChoices("LOG_FORMAT", "ACTION_SERVER_LOG_FORMAT")
    )
    # Sanic worker processes on the one port, each with its own adapters (memory: one embedding
    # model per worker). Above 1, /metrics adds up the workers' counts through
    # PROMETHEUS_MULTIPROC_DIR (common/metrics.py).
    workers: int = Field(default=1, ge=1, le=32)
    # How long a worker may take to warm up (catalogue, knowledge base, embedding model) before
    # it serves. Sanic gives up after 30 s, which a slow or busy host can exceed (float32
    # embeddings on a CPU without bfloat16, other jobs on the cores).
    warm_up_timeout_s: float = Field(default=300.0, ge=30, le=3600)
    # /ready answers 503 when any check fails, not only the required ones (common/readiness.py).
    readiness_strict: bool = Field(
        default=False,
        validation_alias=AliasChoices("READINESS_STRICT", "ACTION_SERVER_READINESS_STRICT"),
    )
    # CPU threads of the embedding model (torch). One by default: a question is embedded in
    # about 20 ms on one thread, and more threads spin and starve the Rasa server on a small
    # shared machine (per-turn latency, docs/benchmarks.md).
    torch_threads: int = Field(default=1, ge=1, le=256)
    # A handoff waits this long for the lead store in the person's turn (its own retries
    # included, ADVISOR_HANDOFF_ATTEMPTS); past it, or when the store keeps failing, the request
    # is written to the spool folder and handed to the store again every interval until it
    # takes it (actions/handoff_spool.py; docs/security.md, "Handoff when the database is down").
    handoff_timeout_s: float = Field(default=4.0, gt=0, le=30)
    handoff_spool_dir: Path = Path(".run/handoff-spool")
    handoff_spool_interval_s: float = Field(default=10.0, gt=0, le=3600)
    # The Redis that carries the answer drafts to the Rasa server's website channel while an
    # LLM answer is written (common/drafts.py); unset, the widget shows the final message only.
    # Same variables as the Rasa server reads.
    answer_drafts_url: str | None = Field(
        default=None, validation_alias=AliasChoices("ANSWER_DRAFTS_URL")
    )
    answer_drafts_password: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("ANSWER_DRAFTS_PASSWORD")
    )
    advisor: AdvisorSettings = Field(default_factory=AdvisorSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
