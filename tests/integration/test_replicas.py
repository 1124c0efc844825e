"""Two replicas of the assistant sharing their stores: turns of one conversation may land on either,
and one replica may crash, without a turn lost, repeated or out of order.

Two replicas (benchmarks/replicas.py: a Rasa server and the action server it calls, each)
run as real processes on loopback with one PostgreSQL tracker store, one Redis lock store and one
PostgreSQL lead store, migrated once before the servers start as a deployment's migration job does.
The knowledge base is left out (product questions are not on the script): these tests are about
state shared between processes.

The tests share the replicas and run in this order: the crash test kills replica A.
"""

import asyncio
import dataclasses
import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from benchmarks.replicas import (
    Cluster,
    Prospect,
    Router,
    TrackerRows,
    bot_texts,
    comparable,
    custom_payloads,
    log_tail,
    running_cluster,
    user_texts,
    wait_for,
)
from stack.training import model_path
from tests.services import require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]

JOURNEYS = 12
# Every third prospect leaves after the recommendation: no lead may appear for them.
LEAVES_WITHOUT_ADVISOR = 3
# The crash comes once every journey has had this many turns answered (of 13 to 17): the opening
# and the consent are behind all of them. Journeys run at different speeds, so a short one may
# have ended already; most must still be in progress, and each of those must end on the survivor.
KILL_AFTER_TURNS_EACH = 3
MIN_IN_PROGRESS_AT_CRASH = JOURNEYS * 2 // 3
# Journeys start within this many seconds of each other: a few turns apart, whatever the servers'
# speed (spread over 2 s, the first journeys could end before the last had three turns once a
# turn got cheaper).
START_SPREAD_S = 0.5
# How long the crash waits for a moment when replica A is serving a request.
WAIT_FOR_IN_FLIGHT_S = 10.0


Events = list[dict[str, Any]]


@dataclasses.dataclass
class _Crash:
    """What the crash saw: turns each prospect had had served, who had finished, what failed."""

    served_by: list[Counter[str]] = dataclasses.field(default_factory=list)
    finished: list[bool] = dataclasses.field(default_factory=list)
    in_flight: set[tuple[str, str]] = dataclasses.field(default_factory=set)
    at_s: float = 0.0


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_service("PostgreSQL", 5432)
    require_service("Redis", 6379)
    if not model_path().exists():
        pytest.fail(f"no trained Rasa model at {model_path()}: run `make train` first")
    with running_cluster(tmp_path_factory.mktemp("replicas"), 2) as replicas:
        yield replicas


def _run_tag() -> str:
    return uuid.uuid4().hex[:8]


async def _connect(url: str) -> psycopg.AsyncConnection[tuple[str]]:
    # Autocommit: each read sees every turn committed so far, by either replica.
    return await psycopg.AsyncConnection.connect(url, autocommit=True)


class TestTurnsOnEitherReplica:
    def test_a_replica_reads_the_turns_the_other_one_wrote(self, cluster: Cluster) -> None:
        """The tracker store keeps each conversation in memory between its turns: a replica that
        saved turn n must not serve that copy at turn n+2 when the other wrote turn n+1. A
        conversation alternating between the replicas must do exactly what the same script does
        on one replica alone."""
        assert all(replica.alive for replica in cluster.replicas), "runs before the crash test"
        tag = _run_tag()

        async def scenario() -> tuple[Router, Prospect, Prospect, Events, Events]:
            async with httpx.AsyncClient() as client:
                connection = await _connect(cluster.tracker_url)
                async with connection:
                    router = Router(cluster.replicas, client, seed=1)
                    rows = TrackerRows(connection)
                    alternating = Prospect(
                        f"alternating-{tag}", router, rows, router.alternate, False
                    )
                    alone = Prospect(f"alone-{tag}", router, rows, router.first, False)
                    await asyncio.gather(alternating.play(), alone.play())
                    return (
                        router,
                        alternating,
                        alone,
                        await rows.events(alternating.conversation_id),
                        await rows.events(alone.conversation_id),
                    )

        router, alternating, alone, alternating_rows, alone_rows = asyncio.run(scenario())

        assert router.failures == []
        assert set(alone.served_by) == {"A"}
        assert abs(alternating.served_by["A"] - alternating.served_by["B"]) <= 1
        assert user_texts(alternating_rows) == alternating.sent
        assert user_texts(alone_rows) == alone.sent
        assert "age" in alternating.questions
        assert alternating.questions == alone.questions
        assert comparable(alternating_rows) == comparable(alone_rows)


class TestReplicaCrash:
    def test_concurrent_journeys_continue_on_the_survivor(self, cluster: Cluster) -> None:
        """Journeys with every turn on a random replica; replica A (Rasa and action server)
        crashes while most are in progress. Only the requests A was serving may fail; each is
        sent again by its prospect when it was not taken. Every journey ends, every message is in
        its tracker once and in order, the form asked the same questions in the same order in
        every journey, and each journey that asked for an advisor has exactly one lead, the one
        whose reference it was given."""
        replica_a, replica_b = cluster.replicas
        tag = _run_tag()
        crash = _Crash()

        async def kill_replica_a(router: Router, prospects: list[Prospect]) -> None:
            await wait_for(
                lambda: all(p.turns >= KILL_AFTER_TURNS_EACH for p in prospects), timeout_s=600
            )
            # A crash while A serves requests, the case that matters; if none comes, crash anyway.
            await wait_for(lambda: bool(replica_a.in_flight), timeout_s=WAIT_FOR_IN_FLIGHT_S)
            crash.served_by = [Counter(p.served_by) for p in prospects]
            crash.finished = [p.finished for p in prospects]
            crash.in_flight = router.kill(replica_a)
            crash.at_s = time.monotonic() - started

        async def play(prospect: Prospect, delay_s: float) -> None:
            await asyncio.sleep(delay_s)
            await prospect.play()

        started = time.monotonic()

        async def scenario() -> tuple[Router, list[Prospect], dict[str, Events]]:
            limits = httpx.Limits(max_connections=JOURNEYS * 2)
            async with httpx.AsyncClient(limits=limits) as client:
                connection = await _connect(cluster.tracker_url)
                async with connection:
                    router = Router(cluster.replicas, client, seed=20)
                    rows = TrackerRows(connection)
                    prospects = [
                        Prospect(
                            f"journey-{tag}-{index}",
                            router,
                            rows,
                            router.random_replica,
                            asks_for_advisor=index % LEAVES_WITHOUT_ADVISOR != 0,
                            email=f"client{index}.martin@exemple.fr",
                        )
                        for index in range(JOURNEYS)
                    ]
                    starts = random.Random(tag)  # noqa: S311 (staggered starts)
                    await asyncio.gather(
                        kill_replica_a(router, prospects),
                        *(play(p, starts.uniform(0, START_SPREAD_S)) for p in prospects),
                    )
                    stored = {p.sender: await rows.events(p.conversation_id) for p in prospects}
                    return router, prospects, stored

        try:
            router, prospects, stored = asyncio.run(scenario())
        except Exception as error:
            raise AssertionError(f"{error}\n{log_tail(replica_b)}") from error

        print(  # shown with `pytest -s`: what the run did
            f"\n{router.delivered} turns answered in {time.monotonic() - started:.0f} s, replica A "
            f"killed at {crash.at_s:.0f} s with {len(crash.in_flight)} requests in flight; "
            f"failed: {[(f.sender, f.message, f.replica, f.error) for f in router.failures]}; "
            f"questions of a journey with the advisor: {prospects[1].questions}"
        )
        # The crash happened mid-journey for everyone, after both replicas served turns.
        assert crash.finished, "replica A was never killed"
        assert crash.finished.count(False) >= MIN_IN_PROGRESS_AT_CRASH, crash.finished
        assert sum(served["A"] for served in crash.served_by) > 0
        assert sum(served["B"] for served in crash.served_by) > 0
        # Only requests A was serving when it died failed.
        failed = {(failure.sender, failure.message) for failure in router.failures}
        assert {failure.replica for failure in router.failures} <= {"A"}
        assert failed <= crash.in_flight, (failed, crash.in_flight)

        leads = _leads(cluster.advisor_url)
        for prospect, at_crash, done in zip(
            prospects, crash.served_by, crash.finished, strict=True
        ):
            events = stored[prospect.sender]
            assert prospect.finished
            # In progress at the crash: continued on the survivor, and only there. A request A
            # had answered just before it died may still count as served after the snapshot
            # (its reply was read, its coroutine not yet resumed): at most the prospect's
            # requests in flight at the crash.
            in_flight = sum(sender == prospect.sender for sender, _ in crash.in_flight)
            answered_by_a = prospect.served_by["A"] - at_crash["A"]
            assert 0 <= answered_by_a <= in_flight, (prospect.sender, answered_by_a, in_flight)
            assert done or answered_by_a or prospect.served_by["B"] > at_crash["B"]
            # Each message once, in order: nothing lost, nothing repeated.
            assert user_texts(events) == prospect.sent
            assert [p["type"] for p in custom_payloads(events)].count("recommendations") == 1
            references = leads.get(prospect.conversation_id, [])
            if prospect.asks_for_advisor:
                [reference] = references
                assert any(reference in text for text in bot_texts(events))
            else:
                assert references == []

        # The same answers, the same questions in the same order, each asked once.
        [order] = {tuple(prospect.questions) for prospect in prospects if prospect.asks_for_advisor}
        [needs] = {tuple(p.questions) for p in prospects if not p.asks_for_advisor}
        assert len(set(order)) == len(order)
        assert order[: len(needs)] == needs
        assert {"consent", "age"} <= set(needs)
        assert set(order[len(needs) :]) == {"contact_name", "contact", "callback_slot"}


def _leads(advisor_url: str) -> dict[str, list[str]]:
    """conversation id → lead references, from the lead store's table."""
    found: dict[str, list[str]] = {}
    with psycopg.connect(advisor_url) as connection:
        for conversation_id, reference in connection.execute(
            "SELECT conversation_id, reference FROM advisor_leads"
        ):
            found.setdefault(conversation_id, []).append(reference)
    return found
