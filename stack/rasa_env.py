"""Environment variables read by endpoints.yml, derived from the stack settings.

endpoints.yml cannot hold defaults, so every value it references is set here: the action server
URL, the SQL tracker store (a full URL) and the lock store (in-memory, or Redis split into host,
port, db and password).
"""

from urllib.parse import urlsplit

from stack.settings import StackSettings


def tracker_store_env(url: str) -> dict[str, str]:
    """Variables of the `tracker_store` section for an SQLite or PostgreSQL URL."""
    dialect = "sqlite" if url.startswith("sqlite") else "postgresql"
    return {"RASA_TRACKER_DIALECT": dialect, "RASA_TRACKER_URL": url}


def lock_store_env(url: str) -> dict[str, str]:
    """Variables of the `lock_store` section: in-memory when `url` is empty, else Redis."""
    if not url:
        return {
            "RASA_LOCK_STORE_TYPE": "in_memory",
            "RASA_LOCK_STORE_HOST": "",
            "RASA_LOCK_STORE_PORT": "",
            "RASA_LOCK_STORE_DB": "",
            "RASA_LOCK_STORE_PASSWORD": "",
        }
    parts = urlsplit(url)
    database = parts.path.lstrip("/") or "0"
    return {
        "RASA_LOCK_STORE_TYPE": "redis",
        "RASA_LOCK_STORE_HOST": parts.hostname or "127.0.0.1",
        "RASA_LOCK_STORE_PORT": str(parts.port or 6379),
        "RASA_LOCK_STORE_DB": database,
        "RASA_LOCK_STORE_PASSWORD": parts.password or "",
    }


def rasa_server_env(settings: StackSettings) -> dict[str, str]:
    """All variables endpoints.yml needs for this stack."""
    env = {
        "RASA_ACTION_ENDPOINT_URL": (
            f"http://{settings.host}:{settings.action_server_port}/webhook"
        ),
    }
    env.update(tracker_store_env(settings.tracker_store_url))
    env.update(lock_store_env(settings.lock_store_url))
    return env
