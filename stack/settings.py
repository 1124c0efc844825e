"""Settings of the local stack (`make run`): ports, the secret of the Rasa HTTP API's tokens, the
Rasa server's stores, what the stack passes to the action server and the web app, and the knowledge
base it builds.

Read once by `python -m stack` (unprefixed variables: RASA_PORT, ADVISOR_DATABASE_URL, …, and the
KNOWLEDGE_* of the `knowledge` component) and passed down to the services it starts.
"""

import secrets
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.db import DEFAULT_ADVISOR_DATABASE_URL
from knowledge.settings import KnowledgeSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Only acceptable on a developer's machine: the Rasa HTTP API listens on localhost.
DEV_RASA_JWT_SECRET = "change-me-local-dev-rasa-jwt-secret"  # noqa: S105
# HS256 needs a key of at least 256 bits (RFC 7518, section 3.2).
MIN_JWT_SECRET_LENGTH = 32
# The documented test credential of the REST channel (channels/rest.py): harnesses on a developer's
# machine and in CI send it as `Authorization: Bearer <token>`; refused outside local development.
DEV_RASA_REST_TOKEN = "local-dev-rest-token-not-a-secret-0123456789"  # noqa: S105
MIN_REST_TOKEN_LENGTH = 32


class StackSettings(BaseSettings):
    """Where each server listens and which stores the Rasa server uses."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # `python -m stack` is the local launcher, hence its `local` default; the value (ENVIRONMENT or
    # WEBAPP_ENVIRONMENT, one setting) is passed on to the web app as WEBAPP_ENVIRONMENT, so the
    # stack and the web app always apply the same rules to secrets and cookies.
    environment: str = Field(
        default="local",
        pattern="^(local|test|staging|production)$",
        validation_alias=AliasChoices("ENVIRONMENT", "WEBAPP_ENVIRONMENT", "environment"),
    )
    host: str = "127.0.0.1"
    rasa_port: int = Field(default=5005, ge=1, le=65535)
    action_server_port: int = Field(default=5055, ge=1, le=65535)
    webapp_port: int = Field(default=8000, ge=1, le=65535)
    # Signs the JWTs that harnesses send to the Rasa HTTP API (common/rasa_api.py).
    rasa_jwt_secret: str = DEV_RASA_JWT_SECRET
    # The REST channel's bearer token (RASA_REST_TOKEN, passed to the Rasa server).
    rasa_rest_token: str = DEV_RASA_REST_TOKEN
    # The key of the conversation tags in the logs and request ids (LOG_HASH_KEY,
    # common/pseudonym.py), passed to the Rasa server and the action server so that both derive
    # the same request id for a turn; drawn at random for each run when unset.
    log_hash_key: str = Field(default_factory=lambda: secrets.token_hex(32), min_length=16)
    # Rasa's SQL tracker store: an SQLite file by default, e.g. postgresql://user@host:5432/db.
    tracker_store_url: str = "sqlite:///.run/rasa_tracker.db"
    # Empty means Rasa's in-memory lock store; redis://host:6379/0 to share locks between replicas.
    lock_store_url: str = ""
    # Sanic worker processes of the Rasa server (SANIC_WORKERS): each loads the model (about
    # 650 MB) and takes turns on its own core; more than one needs the Redis lock store, so that
    # two turns of one conversation never run at once in two workers.
    rasa_workers: int = Field(default=1, ge=1)
    # The Redis of the answer drafts (ANSWER_DRAFTS_URL, common/drafts.py), passed to the Rasa
    # server and the action server; empty: LOCK_STORE_URL's Redis, and no drafts without one.
    answer_drafts_url: str = ""
    # The advisor lead store, shared by the action server (handoff) and the web app (console).
    advisor_database_url: str = DEFAULT_ADVISOR_DATABASE_URL
    # The action server's answer model (KNOWLEDGE_LLM_MODEL, passed to it): empty means extractive
    # answers (the LLM is too slow for a conversation on a small CPU), whatever the knowledge
    # package's own default; production sets a GGUF path (see docs/conversation.md).
    knowledge_llm_model: str = ""
    # TensorFlow's thread pools in the Rasa server: one each (0 lets TensorFlow choose). Their
    # default takes every core and spins while waiting, stealing the CPU the action server needs
    # on a small machine (per-turn latency, docs/benchmarks.md).
    tf_intra_op_parallelism_threads: int = Field(default=1, ge=0)
    tf_inter_op_parallelism_threads: int = Field(default=1, ge=0)
    # The knowledge base the stack builds on first start (KNOWLEDGE_STORE, KNOWLEDGE_STORE_DIR…).
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    run_dir: Path = PROJECT_ROOT / ".run"
    startup_timeout_s: float = Field(default=180.0, gt=0)

    @field_validator("tracker_store_url")
    @classmethod
    def _check_tracker_url(cls, value: str) -> str:
        if not value.startswith(("sqlite:///", "postgresql://")):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value

    @property
    def drafts_url(self) -> str:
        """Where the answer drafts go: ANSWER_DRAFTS_URL, else the lock store's Redis, else ""."""
        return self.answer_drafts_url or self.lock_store_url

    @field_validator("lock_store_url", "answer_drafts_url")
    @classmethod
    def _check_lock_url(cls, value: str) -> str:
        if value and not value.startswith("redis://"):
            raise ValueError("must be empty or start with redis://")
        return value

    @field_validator("rasa_jwt_secret")
    @classmethod
    def _check_jwt_secret(cls, value: str) -> str:
        if len(value) < MIN_JWT_SECRET_LENGTH:
            raise ValueError(f"must be at least {MIN_JWT_SECRET_LENGTH} characters long")
        return value

    @field_validator("rasa_rest_token")
    @classmethod
    def _check_rest_token(cls, value: str) -> str:
        if len(value) < MIN_REST_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_REST_TOKEN_LENGTH} characters long")
        return value

    @model_validator(mode="after")
    def _check_workers(self) -> "StackSettings":
        if self.rasa_workers > 1 and not self.lock_store_url:
            raise ValueError("RASA_WORKERS above 1 needs LOCK_STORE_URL (the Redis lock store)")
        return self

    def check_secrets(self) -> None:
        """Refuse the development secrets outside local development."""
        if self.environment != "local" and self.rasa_jwt_secret == DEV_RASA_JWT_SECRET:
            raise ValueError("RASA_JWT_SECRET must be set outside local development")
        if self.environment != "local" and self.rasa_rest_token == DEV_RASA_REST_TOKEN:
            raise ValueError("RASA_REST_TOKEN must be set outside local development")
