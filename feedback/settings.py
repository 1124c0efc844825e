"""Where the feedback is stored: the advisor database (ADVISOR_DATABASE_URL)."""

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///.run/advisor.db"


class FeedbackSettings(BaseSettings):
    """Read from the environment and .env; the table lives beside the advisor's leads."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        validation_alias=AliasChoices("ADVISOR_DATABASE_URL", "advisor_database_url"),
        min_length=1,
    )

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        """Rasa-style `postgresql://` URLs use psycopg 3, the driver installed here."""
        for prefix in ("postgresql://", "postgres://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value.removeprefix(prefix)
        if not value.startswith(("sqlite:///", "postgresql+psycopg://")):
            raise ValueError("must start with sqlite:///, postgresql:// or postgresql+psycopg://")
        return value
