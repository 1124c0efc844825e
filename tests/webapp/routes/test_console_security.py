"""The console's sessions and login under attack: a cookie kept after logout, an expired or
revoked session, a deactivated account, a password flood; and a login or a slow database call
never holds the event loop."""

from __future__ import annotations

import html
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import update

from advisor.auth import authenticate, create_user, reset_password, set_active
from advisor.database import open_engine
from advisor.models import SessionRow
from advisor.service import open_handoff_service
from advisor.store import LeadStore
from tests.advisor.factories import handoff_request
from tests.services import free_port
from tests.webapp.helpers import console_app, csrf_of, log_in, post_form
from webapp.console.session import SESSION_COOKIE
from webapp.core.config import WebAppSettings
from webapp.main import create_app

pytestmark = pytest.mark.unit

ALICE = ("alice", "mot-de-passe-alice-1")


@pytest.fixture
def engine(sqlite_url):
    engine = open_engine(sqlite_url)
    create_user(engine, "alice", "Alice Conseil", "advisor", ALICE[1])
    create_user(engine, "bruno", "Bruno Conseil", "advisor", "mot-de-passe-bruno-1")
    yield engine
    engine.dispose()


@pytest.fixture
def client(sqlite_url, engine) -> Iterator[TestClient]:
    with console_app(sqlite_url) as test_client:
        yield test_client


def try_login(client: TestClient, username: str, password: str) -> httpx.Response:
    token = csrf_of(client.get("/conseiller/connexion").text)
    return client.post(
        "/conseiller/connexion",
        data={"csrf_token": token, "identifiant": username, "mot_de_passe": password},
    )


def logged_in(client: TestClient) -> bool:
    return client.get("/conseiller/prospects").status_code == 200


class TestLogout:
    def test_a_cookie_kept_from_before_logout_opens_nothing(self, client):
        log_in(client, *ALICE)
        stolen = client.cookies[SESSION_COOKIE]
        response = post_form(client, "/conseiller/prospects", "/conseiller/deconnexion", {})
        assert response.status_code == 303
        assert not logged_in(client)
        client.cookies.clear()  # only the copied cookie is sent, not the one logout set
        client.cookies.set(SESSION_COOKIE, stolen)
        response = client.get("/conseiller/prospects")
        assert response.status_code == 303
        assert response.headers["location"].startswith("/conseiller/connexion")

    def test_logging_out_ends_only_that_session(self, sqlite_url, client):
        log_in(client, *ALICE)
        with console_app(sqlite_url) as other_device:
            log_in(other_device, *ALICE)
            post_form(other_device, "/conseiller/prospects", "/conseiller/deconnexion", {})
            assert not logged_in(other_device)
        assert logged_in(client)


class TestForgedCookies:
    def test_a_cookie_signed_with_the_key_but_naming_a_user_opens_nothing(self, client, engine):
        """Knowing the signing key (the published development one, here) is not enough: the
        cookie must name a session the server opened."""
        create_user(engine, "sophie", "Sophie", "supervisor", "mot-de-passe-sophie")
        client.get("/conseiller/connexion")
        signer = client.app.state.advisor.signer  # type: ignore[attr-defined]
        for forged in ({"uid": 3, "csrf": "x"}, {"sid": "guessed-session-id", "csrf": "x"}):
            client.cookies.clear()
            client.cookies.set(SESSION_COOKIE, signer.dumps(forged))
            assert client.get("/conseiller/tableau-de-bord").status_code == 303


class TestLifetime:
    def test_an_expired_session_is_refused_by_the_server(self, client, engine):
        log_in(client, *ALICE)
        assert logged_in(client)
        with engine.begin() as connection:
            connection.execute(
                update(SessionRow).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
            )
        assert not logged_in(client)

    def test_an_idle_session_is_refused(self, client, engine):
        log_in(client, *ALICE)
        with engine.begin() as connection:
            connection.execute(
                update(SessionRow).values(last_seen_at=datetime.now(UTC) - timedelta(hours=2))
            )
        assert not logged_in(client)

    def test_deactivation_and_password_reset_end_open_sessions(self, sqlite_url, client, engine):
        log_in(client, *ALICE)
        set_active(engine, "alice", False)
        assert not logged_in(client)
        set_active(engine, "alice", True)
        log_in(client, *ALICE)
        reset_password(engine, "alice", "un-tout-nouveau-mot-de-passe")
        assert not logged_in(client)
        assert try_login(client, *ALICE).status_code == 401
        log_in(client, "alice", "un-tout-nouveau-mot-de-passe")
        assert logged_in(client)


class TestThrottling:
    def test_an_account_is_locked_after_five_failures_even_for_the_right_password(self, client):
        for _ in range(5):
            assert try_login(client, "alice", "pas-le-bon-mot").status_code == 401
        locked = try_login(client, *ALICE)
        assert locked.status_code == 429
        assert int(locked.headers["retry-after"]) > 0
        text = html.unescape(locked.text)
        assert "Trop de tentatives de connexion infructueuses" in text
        assert "Réessayez dans 15 minutes." in text
        # Another account is not locked by alice's failures.
        assert try_login(client, "bruno", "mot-de-passe-bruno-1").status_code == 303

    def test_a_success_clears_the_accounts_failures(self, client):
        for _ in range(4):
            try_login(client, "alice", "pas-le-bon-mot")
        assert try_login(client, *ALICE).status_code == 303
        for _ in range(4):
            assert try_login(client, "alice", "pas-le-bon-mot").status_code == 401

    def test_an_address_trying_many_accounts_is_locked(self, sqlite_url, engine):
        settings = WebAppSettings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            advisor_database_url=sqlite_url,
            login_max_failures_per_address=3,
        )
        with TestClient(create_app(settings), follow_redirects=False) as client:
            for name in ("x1", "x2", "x3"):
                assert try_login(client, name, "devine-moi-1234").status_code == 401
            assert try_login(client, "bruno", "mot-de-passe-bruno-1").status_code == 429

    def test_failures_age_out_of_the_window(self, sqlite_url, engine):
        settings = WebAppSettings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            advisor_database_url=sqlite_url,
            login_window_s=10,
            login_max_failures_per_account=2,
        )
        with TestClient(create_app(settings), follow_redirects=False) as client:
            try_login(client, "alice", "pas-le-bon-mot")
            try_login(client, "alice", "pas-le-bon-mot")
            locked = try_login(client, *ALICE)
            assert locked.status_code == 429
            assert "Réessayez dans 1 minute." in html.unescape(locked.text)
            time.sleep(int(locked.headers["retry-after"]) + 0.5)
            assert try_login(client, *ALICE).status_code == 303


# ------------------------------------------------------------------ the event loop stays free


class Server:
    """The web app on a free port (uvicorn in a thread), as in production."""

    def __init__(self, database_url: str) -> None:
        settings = WebAppSettings(
            _env_file=None,  # type: ignore[call-arg]
            environment="test",
            advisor_database_url=database_url,
        )
        self.port = free_port()
        config = uvicorn.Config(
            create_app(settings), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 60
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the web app did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def health_answers_while(blocked: threading.Event, started: threading.Event, url: str) -> float:
    """Seconds /health took while a request is held inside `started` … `blocked.set()`."""
    assert started.wait(20), "the slow request never started"
    try:
        begin = time.monotonic()
        response = httpx.get(url + "/health", timeout=5)
        assert response.status_code == 200
        return time.monotonic() - begin
    finally:
        blocked.set()


class TestEventLoop:
    def test_a_password_check_in_progress_does_not_stop_other_requests(
        self, sqlite_url, engine, monkeypatch
    ):
        import webapp.api.routes.advisor_console as console

        started, release = threading.Event(), threading.Event()
        real = console.authenticate

        def slow_authenticate(*args: object, **kwargs: object) -> object:
            started.set()
            release.wait(20)
            return real(*args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(console, "authenticate", slow_authenticate)
        with Server(sqlite_url) as server, httpx.Client(base_url=server.url) as browser:
            token = csrf_of(browser.get("/conseiller/connexion").text)
            result: dict[str, int] = {}

            def log_in_slowly() -> None:
                response = browser.post(
                    "/conseiller/connexion",
                    data={"csrf_token": token, "identifiant": ALICE[0], "mot_de_passe": ALICE[1]},
                    timeout=30,
                )
                result["status"] = response.status_code

            thread = threading.Thread(target=log_in_slowly)
            thread.start()
            took = health_answers_while(release, started, server.url)
            thread.join(30)
        assert took < 2
        assert result["status"] == 303

    def test_a_slow_database_write_does_not_stop_other_requests(
        self, sqlite_url, engine, monkeypatch
    ):
        service = open_handoff_service(sqlite_url)
        reference = service.hand_off(handoff_request()).lead_reference
        service.close()
        alice = authenticate(engine, *ALICE)
        assert alice is not None
        LeadStore(engine).claim(reference, alice)
        started, release = threading.Event(), threading.Event()
        real = LeadStore.add_note

        def slow_add_note(self: LeadStore, *args: object) -> None:
            started.set()
            release.wait(20)
            real(self, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(LeadStore, "add_note", slow_add_note)
        page = f"/conseiller/prospects/{reference}"
        with Server(sqlite_url) as server, httpx.Client(base_url=server.url) as browser:
            token = csrf_of(browser.get("/conseiller/connexion").text)
            browser.post(
                "/conseiller/connexion",
                data={"csrf_token": token, "identifiant": ALICE[0], "mot_de_passe": ALICE[1]},
            )
            token = csrf_of(browser.get(page).text)
            result: dict[str, int] = {}

            def write_note() -> None:
                response = browser.post(
                    f"{page}/notes", data={"csrf_token": token, "texte": "Rappel."}, timeout=30
                )
                result["status"] = response.status_code

            thread = threading.Thread(target=write_note)
            thread.start()
            took = health_answers_while(release, started, server.url)
            thread.join(30)
        assert took < 2
        assert result["status"] == 303
        assert [note.text for note in LeadStore(engine).get_lead(reference).notes] == ["Rappel."]
