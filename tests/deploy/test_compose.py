"""The Compose deployment (deploy/compose/): services, scaling, start order, secrets."""

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from stack.rasa_env import rasa_server_env
from stack.settings import StackSettings
from tests.deploy.helpers import DEPLOY, ROOT
from webapp.core.config import WebAppSettings

pytestmark = pytest.mark.unit

COMPOSE_DIR = DEPLOY / "compose"
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|DATABASE_URL|TRACKER_URL")
# Passed through from deploy/compose/.env, empty by default (docs/channels.md).
CHANNEL_VARIABLES = re.compile(r"^(TELEGRAM|FACEBOOK|TWILIO|SLACK|RASA_REST)_")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((COMPOSE_DIR / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    return compose["services"]


def example_env() -> dict[str, str]:
    pairs = (
        line.split("=", 1)
        for line in (COMPOSE_DIR / ".env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    return {key: value for key, value in pairs}


def test_the_whole_system_is_there(services: dict[str, Any]) -> None:
    assert set(services) == {
        "proxy",
        "rasa",
        "actions",
        "webapp",
        "webhook-worker",
        "migrate",
        "knowledge-ingest",
        "llm-server",
        "postgres",
        "redis",
        "weaviate",
    }


def test_rasa_and_the_action_server_scale_to_several_replicas(services: dict[str, Any]) -> None:
    for name in ("rasa", "actions"):
        service = services[name]
        assert service["deploy"]["replicas"] >= 2, name
        # A fixed name or host port would stop `--scale`.
        assert "container_name" not in service, name
        assert "ports" not in service, name


def test_only_the_proxy_is_published_beyond_loopback(services: dict[str, Any]) -> None:
    for name, service in services.items():
        for port in service.get("ports", []):
            if name != "proxy":
                assert str(port).startswith("127.0.0.1:"), (name, port)
    assert services["proxy"]["networks"] == ["edge"]
    for name in ("postgres", "redis", "weaviate", "actions", "llm-server"):
        assert "edge" not in services[name]["networks"], name


def test_no_two_services_publish_the_same_host_port(services: dict[str, Any]) -> None:
    env = example_env()
    published: dict[int, list[str]] = {}
    for name, service in services.items():
        for port in service.get("ports", []):
            host = re.sub(r"\$\{(\w+):-(\w+)\}", lambda m: env.get(m[1]) or m[2], str(port))
            parts = host.split(":")
            host_port = int(parts[-2])
            published.setdefault(host_port, []).append(name)
    clashes = {port: names for port, names in published.items() if len(names) > 1}
    assert not clashes, f"host ports published twice: {clashes}"


def test_servers_start_after_the_migrations_and_the_ingestion(services: dict[str, Any]) -> None:
    done = "service_completed_successfully"
    assert services["webapp"]["depends_on"]["migrate"]["condition"] == done
    assert services["actions"]["depends_on"]["migrate"]["condition"] == done
    assert services["actions"]["depends_on"]["knowledge-ingest"]["condition"] == done
    assert services["rasa"]["depends_on"]["actions"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    command = " ".join(services["migrate"]["command"])
    assert "alembic upgrade head" in command
    assert services["migrate"]["restart"] == "no"


def test_secrets_are_files_and_never_values(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    for name, secret in compose["secrets"].items():
        assert secret["file"].startswith("${SECRETS_DIR:?"), name
    for name, service in services.items():
        granted = set(service.get("secrets", []))
        for variable, value in (service.get("environment") or {}).items():
            value = str(value)
            if variable.endswith("_FILE"):
                secret = value.removeprefix("/run/secrets/")
                assert value.startswith("/run/secrets/"), (name, variable)
                assert secret in granted, (name, variable)
            elif SECRET_NAME.search(variable):
                # Only the channels' tokens come from the environment (.env), empty by default.
                assert CHANNEL_VARIABLES.match(variable), (name, variable)
                assert value == f"${{{variable}:-}}", (name, variable)
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", value), (name, variable)


def test_rasa_gets_what_stack_rasa_env_derives(services: dict[str, Any]) -> None:
    derived = rasa_server_env(StackSettings(lock_store_url="redis://redis:6379/0"))
    environment = services["rasa"]["environment"]
    for variable in derived:
        assert variable in environment or f"{variable}_FILE" in environment, variable
    assert environment["RASA_LOCK_STORE_TYPE"] == "redis"
    assert environment["RASA_TRACKER_DIALECT"] == "postgresql"
    assert environment["RASA_ACTION_ENDPOINT_URL"] == "http://actions:5055/webhook"


def test_the_template_sets_every_mandatory_variable(compose: dict[str, Any]) -> None:
    text = (COMPOSE_DIR / "docker-compose.yml").read_text()
    mandatory = set(re.findall(r"\$\{(\w+):\?", text))
    assert mandatory == {"SECRETS_DIR", "PUBLIC_URL"}
    env = example_env()
    assert all(env.get(variable) for variable in mandatory)


def test_the_example_secrets_are_refused_outside_local_development(
    compose: dict[str, Any],
) -> None:
    folder = COMPOSE_DIR / example_env()["SECRETS_DIR"]
    for name in compose["secrets"]:
        assert (folder / name).is_file(), name
    key = (folder / "webapp_secret_key").read_text().strip()
    with pytest.raises(ValueError, match="WEBAPP_SECRET_KEY"):
        WebAppSettings(environment="production", secret_key=key).check_secrets()


def test_the_tracker_database_is_created_beside_the_application_database() -> None:
    folder = COMPOSE_DIR / example_env()["SECRETS_DIR"]
    tracker = (folder / "tracker_store_url").read_text().strip()
    database = tracker.rsplit("/", 1)[1]
    init = (COMPOSE_DIR / "postgres-init.sql").read_text()
    assert re.search(rf"^CREATE DATABASE {database};$", init, re.MULTILINE)


def test_the_llm_server_mounts_the_model_read_only(services: dict[str, Any]) -> None:
    llm = services["llm-server"]
    assert llm["profiles"] == ["llm"]
    assert llm["command"][:3] == ["python", "-m", "llama_cpp.server"]
    (volume,) = llm["volumes"]
    assert volume.endswith(":/models:ro")


def test_servers_run_on_a_read_only_root_filesystem(services: dict[str, Any]) -> None:
    for name in ("rasa", "actions", "webapp", "migrate", "knowledge-ingest", "llm-server"):
        assert services[name]["read_only"] is True, name
        assert services[name]["tmpfs"] == ["/tmp"], name  # noqa: S108 (a tmpfs of its own)


def test_built_services_name_an_existing_dockerfile_and_context(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        build = service.get("build")
        if build is None:
            continue
        context = (COMPOSE_DIR / build["context"]).resolve()
        assert context == ROOT, name
        assert (context / build["dockerfile"]).is_file(), name
        image = service["image"].split(":")[0]
        assert Path(build["dockerfile"]).name == f"{image.split('/')[1]}.Dockerfile", name


def test_the_proxy_mounts_its_configuration_read_only(services: dict[str, Any]) -> None:
    (volume,) = services["proxy"]["volumes"]
    source, target, mode = volume.split(":")
    assert (COMPOSE_DIR / source).is_file()
    assert (target, mode) == ("/etc/nginx/nginx.conf", "ro")


def test_weaviate_wants_the_api_key_of_the_secret(services: dict[str, Any]) -> None:
    weaviate = services["weaviate"]
    assert weaviate["environment"]["AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED"] == "false"
    assert weaviate["environment"]["AUTHENTICATION_APIKEY_ENABLED"] == "true"
    assert "weaviate_api_key" in weaviate["secrets"]
    assert "/run/secrets/weaviate_api_key" in " ".join(weaviate["entrypoint"])
