import pytest

from stack.rasa_env import lock_store_env, rasa_server_env, tracker_store_env
from stack.settings import StackSettings

pytestmark = pytest.mark.unit


def test_sqlite_tracker_store_passes_the_url_whole():
    env = tracker_store_env("sqlite:///.run/tracker.db")
    assert env["RASA_TRACKER_DIALECT"] == "sqlite"
    assert env["RASA_TRACKER_URL"] == "sqlite:///.run/tracker.db"


def test_postgresql_tracker_store():
    env = tracker_store_env("postgresql://postgres@127.0.0.1:5432/test")
    assert env["RASA_TRACKER_DIALECT"] == "postgresql"
    assert env["RASA_TRACKER_URL"] == "postgresql://postgres@127.0.0.1:5432/test"


def test_empty_lock_store_url_means_in_memory():
    assert lock_store_env("")["RASA_LOCK_STORE_TYPE"] == "in_memory"


def test_redis_lock_store_url_is_split():
    env = lock_store_env("redis://:secret@10.0.0.5:6380/3")
    assert env == {
        "RASA_LOCK_STORE_TYPE": "redis",
        "RASA_LOCK_STORE_HOST": "10.0.0.5",
        "RASA_LOCK_STORE_PORT": "6380",
        "RASA_LOCK_STORE_DB": "3",
        "RASA_LOCK_STORE_PASSWORD": "secret",
    }


def test_every_variable_of_endpoints_yml_is_set():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "endpoints.yml").read_text()
    referenced = set(re.findall(r"\$\{(\w+)\}", text))
    for lock_url in ("", "redis://127.0.0.1:6379/0"):
        env = rasa_server_env(StackSettings(lock_store_url=lock_url, _env_file=None))
        assert referenced <= set(env), referenced - set(env)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("tracker_store_url", "mysql://root@localhost/db"),
        ("lock_store_url", "memcached://localhost"),
        ("rasa_jwt_secret", "x" * 31),
        ("rasa_rest_token", "x" * 31),
    ],
)
def test_invalid_stack_settings_are_refused(field, value):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=field):
        StackSettings(**{field: value}, _env_file=None)


def test_development_jwt_secret_is_refused_outside_local():
    settings = StackSettings(environment="production", _env_file=None)
    with pytest.raises(ValueError, match="RASA_JWT_SECRET"):
        settings.check_secrets()


def test_development_rest_token_is_refused_outside_local():
    settings = StackSettings(environment="production", rasa_jwt_secret="s" * 32, _env_file=None)
    with pytest.raises(ValueError, match="RASA_REST_TOKEN"):
        settings.check_secrets()


def test_a_jwt_secret_of_its_own_is_accepted_outside_local():
    StackSettings(
        environment="production",
        rasa_jwt_secret="s" * 32,
        rasa_rest_token="r" * 32,
        _env_file=None,
    ).check_secrets()


def test_the_development_jwt_secret_serves_local_runs():
    StackSettings(_env_file=None).check_secrets()
