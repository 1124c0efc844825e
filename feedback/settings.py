"""Where the feedback is stored: the advisor database (ADVISOR_DATABASE_URL).

Read by `python -m feedback`; the web app stores ratings in the lead store its own settings name.
"""

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.db import DEFAULT_ADVISOR_DATABASE_URL, checked_url


class FeedbackSettings(BaseSettings):
    """Read from the environment and .env; the table lives beside the advisor's leads."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_ADVISOR_DATABASE_URL,
        validation_alias=AliasChoices("ADVISOR_DATABASE_URL", "advisor_database_url"),
        min_length=1,
    )

    @field_validator("database_url")
    @classmethod
    def _driver(cls, value: str) -> str:
        """Rasa-style `postgresql://` URLs use psycopg 3, the driver installed here."""
        return checked_url(value)
