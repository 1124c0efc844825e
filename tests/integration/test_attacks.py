"""The attack suite's CI subset (issue 18): the attacks of `tests/security/attacks.yml` marked
`ci: true`, each played over the REST channel of the real servers and judged by
`benchmarks.bench_attacks` (the whole suite: `python -m benchmarks.bench_attacks`).

Attacks today's assistant fails are expected failures (`KNOWN_FAILURES`, with what it does): the
suite stays green while they stay visible in the `-ra` summary, and one that starts passing shows
as XPASS, to be removed from the list.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from benchmarks.bench_attacks import AttackClient, Session, attack_stack, load_suite

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SUITE = load_suite()
CI_SUBSET = [attack for attack in SUITE.attacks if attack.ci]
# Attack id -> what today's assistant does wrong (docs/security.md, "Attack and fault suites").
# The first run's failures (docs/benchmarks.md, "Attack suite") that the guardrail component
# (bot/components/guardrail_intents.py) did not fix.
KNOWN_FAILURES: dict[str, str] = {}


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    run_dir: Path = tmp_path_factory.mktemp("attack-stack")
    with attack_stack(run_dir) as settings, httpx.Client() as http:
        base_url = f"http://{settings.host}:{settings.rasa_port}"
        client = AttackClient(base_url, settings.rasa_jwt_secret, settings.rasa_rest_token, http)
        played = Session(client, SUITE)
        played.start()
        yield played
        assert played.victim_unchanged(), "an attack changed the victim's conversation"


def test_the_subset_covers_every_category_with_at_least_forty_attacks() -> None:
    # The planted documents need a built knowledge base, which CI does not have.
    playable = {a.category for a in SUITE.attacks if not a.needs_knowledge}
    assert len(CI_SUBSET) >= 40
    assert {attack.category for attack in CI_SUBSET} == playable
    assert not any(attack.needs_knowledge for attack in CI_SUBSET)


@pytest.mark.parametrize(
    "attack",
    [
        pytest.param(
            attack,
            id=attack.id,
            marks=[pytest.mark.xfail(reason=KNOWN_FAILURES[attack.id], strict=False)]
            if attack.id in KNOWN_FAILURES
            else [],
        )
        for attack in CI_SUBSET
    ],
)
def test_the_attack_is_held_off(session: Session, attack: object) -> None:
    outcome = session.play(attack)  # type: ignore[arg-type]
    assert outcome.passed, "; ".join(outcome.reasons + [e.summary() for e in outcome.exchanges])
