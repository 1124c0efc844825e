"""Settings of the web app deployable."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "change-me-local-dev-secret-key"  # noqa: S105


class WebAppSettings(BaseSettings):
    """Read from the environment (prefix WEBAPP_) and .env at start-up."""

    model_config = SettingsConfigDict(env_prefix="WEBAPP_", env_file=".env", extra="ignore")

    environment: str = Field(default="local", pattern="^(local|staging|production)$")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    secret_key: str = Field(default=DEV_SECRET_KEY, min_length=16)
    database_url: str = "sqlite:///.run/webapp.db"
    log_level: str = Field(default="info", pattern="^(debug|info|warning|error)$")

    def check_secrets(self) -> None:
        """Refuse the development secret outside local development."""
        if self.environment != "local" and self.secret_key == DEV_SECRET_KEY:
            raise ValueError("WEBAPP_SECRET_KEY must be changed outside local development")
