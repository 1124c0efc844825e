"""The persona suite's CI subset: the dev personas of `personas_subset.txt`, each played end to end
over the REST channel of the real servers by the simulator of `benchmarks.bench_personas`.

Not in CI yet (today's bot fails some of them): it runs with RUN_PERSONA_SUBSET=1. Putting it in
CI means removing that gate.
"""

import os
from pathlib import Path

import pytest

from benchmarks.bench_personas import judge, load_personas, play, profile_slots
from tests.integration.conftest import RasaClient

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("RUN_PERSONA_SUBSET") != "1",
        reason="the persona subset is not in CI yet: RUN_PERSONA_SUBSET=1 runs it",
    ),
]

SUBSET = Path(__file__).with_name("personas_subset.txt")
IDS = [
    line.strip()
    for line in SUBSET.read_text(encoding="utf-8").splitlines()
    if line.strip() and not line.startswith("#")
]
DEV = {persona.id: persona for persona in load_personas("dev")}


def test_the_subset_holds_at_least_ten_dev_personas() -> None:
    assert len(set(IDS)) == len(IDS) >= 10
    assert set(IDS) <= set(DEV), set(IDS) - set(DEV)


@pytest.mark.parametrize("persona_id", IDS)
def test_the_persona_gets_what_it_expects(sqlite_stack: RasaClient, persona_id: str) -> None:
    persona = DEV[persona_id]
    verdict = judge(persona, play(persona, sqlite_stack, profile_slots()))
    assert verdict.passed, "; ".join(verdict.reasons)
