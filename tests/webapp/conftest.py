"""Fixtures of the web app's tests.

A migrated SQLite lead store per test (`sqlite_url`, shared with tests/advisor). Browser fixtures:
Debian's Chromium through Playwright, the web app and a scripted socket.io server, each started
once per module; every test gets a fresh browser context (empty storage).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.advisor.conftest import sqlite_template, sqlite_url  # noqa: F401  (fixtures)
from tests.feedback.conftest import alembic
from tests.services import IN_CI, free_port
from tests.webapp.fake_rasa import FakeRasa
from tests.webapp.servers import WebAppThread

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    message = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)"
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def fake_rasa() -> Iterator[FakeRasa]:
    server = FakeRasa(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def webapp(fake_rasa: FakeRasa, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebAppThread]:
    tmp = tmp_path_factory.mktemp("widget-webapp")
    url = f"sqlite:///{tmp / 'advisor.db'}"
    alembic(url, "upgrade", "head")
    app = WebAppThread(free_port(), f"http://127.0.0.1:{fake_rasa.port}", tmp, url)
    app.start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, webapp: WebAppThread, fake_rasa: FakeRasa):  # type: ignore[no-untyped-def]
    fake_rasa.refuse = False
    fake_rasa.received.clear()
    fake_rasa.session_requests.clear()
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(webapp.url + "/")
    yield page
    context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"
