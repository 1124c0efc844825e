"""WEBAPP_ENVIRONMENT: production rules unless `local` or `test` is asked for, the same value from
`python -m stack`, the development key refused at start-up, Secure cookies, no public API docs."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from stack.services import webapp_service
from stack.settings import StackSettings
from webapp.core.config import DEV_SECRET_KEY, WebAppSettings
from webapp.main import create_app

pytestmark = pytest.mark.unit

A_REAL_KEY = "k3Y-9vQx_2LrT7mWb8NcZ4pHs6JdF1aE"  # 32 characters, tests only
DOCS = ("/docs", "/redoc", "/openapi.json")


def production(**values: object) -> WebAppSettings:
    return WebAppSettings(_env_file=None, secret_key=A_REAL_KEY, **values)  # type: ignore[arg-type]


class TestDefault:
    def test_without_the_variable_the_web_app_runs_in_production(self, monkeypatch):
        monkeypatch.delenv("WEBAPP_ENVIRONMENT", raising=False)
        settings = WebAppSettings(_env_file=None)  # type: ignore[call-arg]
        assert settings.environment == "production"
        assert not settings.is_development

    def test_the_development_key_stops_the_start_up_unless_local_is_explicit(self, monkeypatch):
        monkeypatch.delenv("WEBAPP_ENVIRONMENT", raising=False)
        with pytest.raises(ValueError, match="WEBAPP_SECRET_KEY is the published development key"):
            create_app(WebAppSettings(_env_file=None))  # type: ignore[call-arg]
        monkeypatch.setenv("WEBAPP_ENVIRONMENT", "local")
        create_app(WebAppSettings(_env_file=None))  # type: ignore[call-arg]

    @pytest.mark.parametrize("environment", ["staging", "production"])
    def test_a_short_key_is_refused_outside_development(self, environment):
        with pytest.raises(ValueError, match="too short"):
            WebAppSettings(
                _env_file=None,  # type: ignore[call-arg]
                environment=environment,
                secret_key="sixteen-chars-ok",
            ).check_secrets()
        production(environment=environment).check_secrets()

    def test_an_unknown_environment_is_refused(self):
        with pytest.raises(ValidationError, match="environment"):
            WebAppSettings(_env_file=None, environment="dev")  # type: ignore[call-arg]


class TestCookiesAndDocs:
    def test_cookies_are_secure_by_default(self, sqlite_url, monkeypatch):
        monkeypatch.delenv("WEBAPP_ENVIRONMENT", raising=False)
        with TestClient(create_app(production(advisor_database_url=sqlite_url))) as client:
            cookie = client.get("/conseiller/connexion").headers["set-cookie"].lower()
        assert "; secure" in cookie

    def test_cookies_are_plain_http_on_a_developers_machine(self, sqlite_url):
        settings = production(environment="local", advisor_database_url=sqlite_url)
        with TestClient(create_app(settings)) as client:
            cookie = client.get("/conseiller/connexion").headers["set-cookie"].lower()
        assert "secure" not in cookie

    def test_the_api_documentation_is_not_public_in_production(self, sqlite_url):
        with TestClient(create_app(production(advisor_database_url=sqlite_url))) as client:
            assert [client.get(path).status_code for path in DOCS] == [404, 404, 404]

    def test_the_api_documentation_is_served_on_a_developers_machine(self, sqlite_url):
        settings = production(environment="local", advisor_database_url=sqlite_url)
        with TestClient(create_app(settings)) as client:
            assert [client.get(path).status_code for path in DOCS] == [200, 200, 200]


class TestStack:
    @pytest.mark.parametrize("variable", ["ENVIRONMENT", "WEBAPP_ENVIRONMENT"])
    def test_the_stack_passes_its_environment_on_to_the_web_app(self, variable, monkeypatch):
        for name in ("ENVIRONMENT", "WEBAPP_ENVIRONMENT"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv(variable, "staging")
        settings = StackSettings(_env_file=None)  # type: ignore[call-arg]
        assert settings.environment == "staging"
        assert webapp_service(settings).env["WEBAPP_ENVIRONMENT"] == "staging"

    def test_the_local_stack_runs_the_web_app_in_local_mode(self, monkeypatch):
        for name in ("ENVIRONMENT", "WEBAPP_ENVIRONMENT"):
            monkeypatch.delenv(name, raising=False)
        env = webapp_service(StackSettings(_env_file=None)).env  # type: ignore[call-arg]
        assert env["WEBAPP_ENVIRONMENT"] == "local"
        monkeypatch.setenv("WEBAPP_ENVIRONMENT", env["WEBAPP_ENVIRONMENT"])
        settings = WebAppSettings(_env_file=None)  # type: ignore[call-arg]
        assert settings.secret_key == DEV_SECRET_KEY
        create_app(settings)  # accepted: the developer's machine
