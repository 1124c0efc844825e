"""Settings of the action server deployable."""

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ActionServerSettings(BaseSettings):
    """Read from the environment (prefix ACTION_SERVER_) and .env at start-up."""

    model_config = SettingsConfigDict(env_prefix="ACTION_SERVER_", env_file=".env", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=5055, ge=1, le=65535)
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")
