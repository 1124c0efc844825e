"""Helpers of the console tests: an app on a given lead store, logging in, reading CSRF tokens."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from webapp.core.config import WebAppSettings
from webapp.main import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_app(database_url: str) -> TestClient:
    settings = WebAppSettings(_env_file=None, advisor_database_url=database_url)
    return TestClient(create_app(settings), follow_redirects=False)


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def log_in(client: TestClient, username: str, password: str) -> None:
    token = csrf_of(client.get("/conseiller/connexion").text)
    response = client.post(
        "/conseiller/connexion",
        data={"csrf_token": token, "identifiant": username, "mot_de_passe": password},
    )
    assert response.status_code == 303, response.text


def post_form(client: TestClient, page: str, action: str, data: dict[str, str]):
    token = csrf_of(client.get(page).text)
    return client.post(action, data={"csrf_token": token, **data})
