"""A harness of several complete replicas of the assistant on loopback, and prospects who talk to
them through a router: the replica and failover tests (tests/integration/test_replicas.py) and
the soak benchmark (benchmarks/bench_soak.py) use it.

A replica is what a deployment scales out: one Rasa server and the action server it calls (its
`action_endpoint`), as one pod would hold them. Every replica shares one PostgreSQL tracker store
(`bot.tracker_store.CachingSQLTrackerStore`, with its per-process memory), one Redis lock store
and one PostgreSQL lead store, exactly as `make run` wires one stack (stack/services.py): only the
ports differ. The replicas are started in parallel (a Rasa model loads in 20–40 s).

`Router` plays the load balancer: each turn goes to a live replica chosen by the caller's policy
(random by default). `Router.kill` ends a replica with SIGKILL, the way a crash or a lost node
does, and takes it out of rotation at once, as a load balancer's health check would; the requests
it was serving at that moment are its in-flight requests, the only ones allowed to fail.

`Prospect` is a scripted person: an opening, then whatever the form asks (the `requested_slot`
read back from the tracker store's rows after each turn, answered from `ANSWERS`), the summary
confirmed, and optionally the advisor requested up to the lead reference. When a reply is lost
(its replica died) the person does what a user of the website would: looks at the conversation
and, a few seconds later, sends the message again only if it was not taken. A prospect may think
before each message (`think_time_s`, drawn uniformly; none by default).

`running_cluster` starts everything a run needs: fresh PostgreSQL databases (trackers, leads;
migrated once before any server starts, as a deployment's migration job does), the Redis lock
store, and the replicas.
"""

import asyncio
import contextlib
import dataclasses
import json
import os
import random
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import psycopg

from advisor.database import ensure_schema, open_engine
from common.rasa_api import rest_conversation_id, rest_headers
from stack.services import action_service, rasa_service
from stack.settings import StackSettings
from stack.supervisor import Service, Supervisor
from tests.services import free_port

POSTGRES = "postgresql://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"

# Seconds a Rasa server's conversation lock stays valid (Rasa's TICKET_LOCK_LIFETIME, 60 by
# default). A replica that dies mid-turn leaves its ticket in Redis: the other replicas wait for it
# to expire before taking the conversation, so this is the longest pause a failover adds to the
# conversations that were in flight. It must stay above the slowest turn.
TICKET_LOCK_LIFETIME_S = 20
# One turn, lock wait after a failover included, on a loaded two-core machine.
TURN_TIMEOUT_S = 120.0
# The same question asked this many times in a row means the journey is stuck.
MAX_SAME_QUESTION = 3
# Sends of one message before giving up (a lost reply, then a resend on a survivor).
MAX_SENDS = 3
# A person whose message got no answer looks at the conversation and sends it again after a few
# seconds. Sooner than about a second after the crash, the resend can wait forever: Rasa 3.6's
# ticket lock keeps a waiting ticket behind a dead replica's ticket, and when both expire between
# two of its one-second polls the lock is left empty and the waiter never served
# (tests/bot/test_lock_store.py reproduces it; docs/operations.md).
RESEND_AFTER_S = 3.0

# An opening without a goal: the form asks for one, and "Faire le point sur tout" makes the
# engine ask every question that applies (the longest journey; a goal such as "assurer mon
# logement" ends the form after five questions).
OPENING: tuple[str, ...] = ("Bonjour", "Je voudrais faire le point sur mes besoins")
CONFIRM_SUMMARY = "oui c'est exact"
ASK_FOR_ADVISOR = "je veux parler à un conseiller"
GOODBYE = "merci, au revoir"
# One answer per question of the two forms (domain.yml `forms:`), whatever order the engine picks.
# At 42 the engine sees a retirement need, so the investor profile is asked too.
ANSWERS: dict[str, str] = {
    "consent": "J'accepte",
    "resides_in_france": "oui",
    "age": "j'ai 42 ans",
    "goals": "Protéger ma famille, assurer mon logement et mon véhicule, préparer ma retraite",
    "housing_status": "je suis locataire",
    "rented_out_properties": "non",
    "vehicles": "non",
    "projects": "non",
    "loan_duration_years": "20 ans",
    "employment_status": "salariée",
    "employer_health_plan": "oui",
    "family_situation": "célibataire",
    "number_of_dependants": "aucune",
    "children_at_school": "aucun",
    "pets": "non",
    "pet_age_years": "3 ans",
    "investor_knowledge": "aucune",
    "investor_experience": "aucun",
    "annual_income_eur": "35 000 € par an",
    "financial_assets_eur": "10 000 €",
    "monthly_commitments_eur": "500 € par mois",
    "investment_objectives": "préparer ma retraite",
    "investment_horizon_years": "20 ans",
    "risk_tolerance": "prudent",
    "loss_capacity": "je peux perdre 10 %",
    "legal_protection": "non",
    "monthly_budget_eur": "60 €",
    "current_coverage": "aucun",
    "contact_name": "Camille Martin",
    "callback_slot": "demain matin",
}


# A date and time inside a slot value (`consent_at`): differs between two runs of one script.
ISO_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)?")


class JourneyError(AssertionError):
    """A prospect's conversation went somewhere the script cannot follow."""


@contextlib.contextmanager
def fresh_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database on loopback for one run; dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{POSTGRES}/{name}"
    finally:
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
            connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class KillableSupervisor(Supervisor):
    """The stack's supervisor, plus the crash of a whole replica."""

    def kill(self) -> None:
        """SIGKILL every process group at once: no shutdown hook runs, no reply is finished."""
        for running in self._running:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(running.process.pid, signal.SIGKILL)

    def pids(self) -> dict[str, int]:
        """The process id of each running server, by service name."""
        return {running.service.name: running.process.pid for running in self._running}


@dataclasses.dataclass
class Replica:
    """One Rasa server and its action server, with the requests it is serving now."""

    name: str
    settings: StackSettings
    supervisor: KillableSupervisor
    alive: bool = True
    in_flight: dict[int, tuple[str, str]] = dataclasses.field(default_factory=dict)

    @property
    def webhook(self) -> str:
        return f"http://{self.settings.host}:{self.settings.rasa_port}/webhooks/rest/webhook"


def replica_services(settings: StackSettings, action_env: dict[str, str]) -> list[Service]:
    """The replica's two servers as `make run` starts them, with the harness's few additions:
    the action server's extra environment and the Rasa server's lock lifetime."""
    action = action_service(settings)
    rasa = rasa_service(settings)
    return [
        dataclasses.replace(action, env={**action.env, **action_env}),
        dataclasses.replace(
            rasa, env={**rasa.env, "TICKET_LOCK_LIFETIME": str(TICKET_LOCK_LIFETIME_S)}
        ),
    ]


def start_replicas(
    settings: Sequence[StackSettings], action_env: dict[str, str], startup_timeout_s: float = 300
) -> list[Replica]:
    """Start every replica in parallel; all healthy, or none left running."""
    replicas = [
        Replica(
            name=chr(ord("A") + index),
            settings=replica_settings,
            supervisor=KillableSupervisor(
                replica_services(replica_settings, action_env),
                replica_settings.run_dir / "logs",
                startup_timeout_s=startup_timeout_s,
            ),
        )
        for index, replica_settings in enumerate(settings)
    ]
    with ThreadPoolExecutor(len(replicas)) as pool:
        futures = [pool.submit(replica.supervisor.start) for replica in replicas]
        errors = [error for future in futures if (error := future.exception()) is not None]
    if errors:
        stop_replicas(replicas)
        raise errors[0]
    return replicas


def stop_replicas(replicas: Sequence[Replica]) -> None:
    for replica in replicas:
        replica.supervisor.stop()


def replica_settings(run_dir: Path, **overrides: Any) -> StackSettings:
    """One replica's stack settings: free ports, its own run folder, the stores of `overrides`."""
    values: dict[str, Any] = {
        "rasa_port": free_port(),
        "action_server_port": free_port(),
        "webapp_port": free_port(),
        "run_dir": run_dir,
        **overrides,
    }
    return StackSettings(_env_file=None, **values)


@dataclasses.dataclass
class Cluster:
    replicas: list[Replica]
    tracker_url: str
    advisor_url: str


@contextlib.contextmanager
def running_cluster(run_dir: Path, count: int, startup_timeout_s: float = 300) -> Iterator[Cluster]:
    """`count` replicas sharing fresh tracker and lead databases and the Redis lock store, without
    knowledge base or language model (the journeys ask no product question); all stopped and
    the databases dropped afterwards."""
    with fresh_database("tracker") as tracker_url, fresh_database("advisor") as advisor_url:
        engine = open_engine(advisor_url)
        ensure_schema(engine)  # the migration job: before any server, never by two at once
        engine.dispose()
        settings = [
            replica_settings(
                run_dir / chr(ord("a") + index),
                tracker_store_url=tracker_url,
                lock_store_url=REDIS_URL,
                advisor_database_url=advisor_url,
            )
            for index in range(count)
        ]
        action_env = {
            "KNOWLEDGE_STORE_DIR": str(run_dir / "no-knowledge-base"),
            "KNOWLEDGE_LLM_MODEL": "",
        }
        replicas = start_replicas(settings, action_env, startup_timeout_s)
        try:
            yield Cluster(replicas, tracker_url, advisor_url)
        finally:
            stop_replicas(replicas)


def leads_by_conversation(advisor_url: str) -> dict[str, list[str]]:
    """conversation id → lead references, from the lead store's table."""
    found: dict[str, list[str]] = {}
    with psycopg.connect(advisor_url) as connection:
        for conversation_id, reference in connection.execute(
            "SELECT conversation_id, reference FROM advisor_leads"
        ):
            found.setdefault(conversation_id, []).append(reference)
    return found


@dataclasses.dataclass
class Failure:
    """A request that got no reply."""

    sender: str
    message: str
    replica: str
    error: str


class Router:
    """The load balancer: sends each turn to the replica a policy picks among the live ones."""

    def __init__(self, replicas: Sequence[Replica], client: httpx.AsyncClient, seed: int) -> None:
        self.replicas = list(replicas)
        self.client = client
        self.random = random.Random(seed)  # noqa: S311 (a test's routing, reproducible)
        self.failures: list[Failure] = []
        self.delivered = 0  # turns answered, all replicas together
        self.latencies_s: list[float] = []  # of each answered turn, in order of arrival
        self.empty_replies = 0  # answered turns without any bot message
        # Called with each answered turn's bot messages (a benchmark's own judge of them).
        self.on_reply: Callable[[list[dict[str, Any]]], None] | None = None
        self._next_request = 0

    def live(self) -> list[Replica]:
        return [replica for replica in self.replicas if replica.alive]

    def random_replica(self, _turn: int) -> Replica:
        return self.random.choice(self.live())

    def alternate(self, turn: int) -> Replica:
        live = self.live()
        return live[turn % len(live)]

    def first(self, _turn: int) -> Replica:
        return self.live()[0]

    async def post(self, replica: Replica, sender: str, message: str) -> list[dict[str, Any]]:
        """One REST channel request; a transport error is recorded as a failure and re-raised."""
        request = self._next_request
        self._next_request += 1
        replica.in_flight[request] = (sender, message)
        started = time.perf_counter()
        try:
            response = await self.client.post(
                replica.webhook,
                json={"sender": sender, "message": message},
                headers=rest_headers(replica.settings.rasa_rest_token),
                timeout=TURN_TIMEOUT_S,
            )
        except httpx.TransportError as error:
            self.failures.append(Failure(sender, message, replica.name, repr(error)))
            raise
        finally:
            del replica.in_flight[request]
        response.raise_for_status()  # an HTTP error is a failure of the system, never retried
        self.delivered += 1
        self.latencies_s.append(time.perf_counter() - started)
        reply: list[dict[str, Any]] = response.json()
        if not any(message.get("text") or message.get("custom") for message in reply):
            self.empty_replies += 1
        if self.on_reply is not None:
            self.on_reply(reply)
        return reply

    def kill(self, replica: Replica) -> set[tuple[str, str]]:
        """Crash `replica` and take it out of rotation; returns its in-flight (sender, message)."""
        in_flight = set(replica.in_flight.values())
        replica.supervisor.kill()
        replica.alive = False
        return in_flight


class TrackerRows:
    """The tracker store's rows (Rasa's `events` table), read straight from PostgreSQL."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection

    async def events(self, conversation_id: str) -> list[dict[str, Any]]:
        cursor = await self.connection.execute(
            "SELECT data FROM events WHERE sender_id = %s ORDER BY id", (conversation_id,)
        )
        return [json.loads(row[0]) for row in await cursor.fetchall()]


def user_texts(events: Sequence[dict[str, Any]]) -> list[str]:
    return [event["text"] for event in events if event["event"] == "user"]


def bot_texts(events: Sequence[dict[str, Any]]) -> list[str]:
    return [event.get("text") or "" for event in events if event["event"] == "bot"]


def form_state(events: Sequence[dict[str, Any]]) -> tuple[str | None, str | None]:
    """(active form, requested slot) after the last event."""
    loop: str | None = None
    requested: str | None = None
    for event in events:
        if event["event"] == "active_loop":
            loop = event.get("name")
        elif event["event"] == "slot" and event.get("name") == "requested_slot":
            requested = event.get("value")
    return (loop, requested) if loop else (None, None)


def custom_payloads(events: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        event["data"]["custom"]
        for event in events
        if event["event"] == "bot" and (event.get("data") or {}).get("custom")
    ]


def comparable(events: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What a conversation did, without what differs between two runs of the same script
    (timestamps, also inside slot values such as `consent_at`, and parse details): user
    messages, actions, slots, forms and bot replies."""
    kept: list[tuple[Any, ...]] = []
    for event in events:
        kind = event["event"]
        if kind == "user":
            kept.append((kind, event["text"], event["parse_data"]["intent"]["name"]))
        elif kind in ("action", "active_loop"):
            kept.append((kind, event.get("name")))
        elif kind == "slot":
            value = json.dumps(event.get("value"), sort_keys=True)
            kept.append((kind, event["name"], ISO_TIME.sub("<time>", value)))
        elif kind == "bot":
            kept.append((kind, event.get("text"), json.dumps(event.get("data"), sort_keys=True)))
        else:
            kept.append((kind,))
    return kept


Policy = Callable[[int], Replica]


@dataclasses.dataclass
class Prospect:
    """One scripted person talking to the replicas through the router."""

    sender: str
    router: Router
    rows: TrackerRows
    choose: Policy
    asks_for_advisor: bool = True
    email: str = "camille.martin@exemple.fr"
    # Seconds the person thinks before each message: drawn uniformly between the two.
    think_time_s: tuple[float, float] = (0.0, 0.0)
    thinking: random.Random = dataclasses.field(default_factory=random.Random)
    sent: list[str] = dataclasses.field(default_factory=list)  # messages taken, in order
    questions: list[str] = dataclasses.field(default_factory=list)  # requested slots answered
    served_by: Counter[str] = dataclasses.field(default_factory=Counter)
    lost_replies: int = 0
    finished: bool = False

    @property
    def conversation_id(self) -> str:
        return rest_conversation_id(self.sender)

    @property
    def turns(self) -> int:
        """Messages taken so far."""
        return len(self.sent)

    async def play(self) -> None:
        for message in OPENING:
            await self.say(message)
        await self.fill_form("needs_discovery_form")
        await self.say(CONFIRM_SUMMARY)
        if self.asks_for_advisor:
            await self.say(ASK_FOR_ADVISOR)
            await self.fill_form("handoff_form")
        await self.say(GOODBYE)
        self.finished = True

    async def fill_form(self, form: str) -> None:
        """Answer the form's questions, in the order the tracker says they are asked."""
        streak: list[str] = []
        while True:
            active, slot = form_state(await self.rows.events(self.conversation_id))
            if active is None and streak:
                return
            if active is None:
                last = bot_texts(await self.rows.events(self.conversation_id))[-1:]
                raise JourneyError(f"{self.sender}: {form} never started; the bot said {last}")
            if active != form or slot is None:
                raise JourneyError(f"{self.sender}: expected {form}, the tracker has {active}")
            streak = [*streak, slot] if streak[-1:] == [slot] else [slot]
            if len(streak) >= MAX_SAME_QUESTION:
                last = bot_texts(await self.rows.events(self.conversation_id))[-1:]
                raise JourneyError(f"{self.sender}: {slot!r} asked again and again: {last}")
            if slot not in ANSWERS and slot != "contact":
                raise JourneyError(f"{self.sender}: no scripted answer to {slot!r}")
            self.questions.append(slot)
            await self.say(self.email if slot == "contact" else ANSWERS[slot])

    async def say(self, message: str) -> None:
        """Send one message; after a lost reply, resend on a live replica unless it was taken."""
        if self.think_time_s[1] > 0:
            await asyncio.sleep(self.thinking.uniform(*self.think_time_s))
        for _ in range(MAX_SENDS):
            replica = self.choose(len(self.sent))
            try:
                await self.router.post(replica, self.sender, message)
            except httpx.TransportError:
                self.lost_replies += 1
                await asyncio.sleep(RESEND_AFTER_S)
                if await self._was_taken(message):
                    self.sent.append(message)
                    return
                continue
            self.sent.append(message)
            self.served_by[replica.name] += 1
            return
        raise JourneyError(f"{self.sender}: {message!r} got no reply after {MAX_SENDS} sends")

    async def _was_taken(self, message: str) -> bool:
        stored = user_texts(await self.rows.events(self.conversation_id))
        if stored == self.sent:
            return False
        if stored == [*self.sent, message]:
            return True
        raise JourneyError(
            f"{self.sender}: after a lost reply the tracker holds {len(stored)} messages, "
            f"{len(self.sent)} sent before it"
        )


async def wait_for(condition: Callable[[], bool], timeout_s: float, poll_s: float = 0.1) -> bool:
    """Poll `condition` until it holds or `timeout_s` passes; whether it held."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(poll_s)
    return True


def log_tail(replica: Replica, lines: int = 30) -> str:
    """The end of each server's log of a replica, for a failing assertion's message."""
    parts = []
    for log in sorted(Path(replica.settings.run_dir / "logs").glob("*.log")):
        content = log.read_text(errors="replace").splitlines()[-lines:]
        parts.append(f"--- {replica.name}: {log.name} ---\n" + "\n".join(content))
    return "\n".join(parts)
