"""The persona suite's CI subset: the dev personas of `personas_subset.txt`, each played end to end
over the REST channel of the real servers by the simulator of `benchmarks.bench_personas`.

The whole suite, dev and held-out, is the benchmark `python -m benchmarks.bench_personas`
(docs/benchmarks.md); this subset keeps its kinds of difficulty in CI.
"""

from pathlib import Path

import pytest

from benchmarks.bench_personas import judge, load_personas, play, profile_slots
from tests.integration.conftest import RasaClient

pytestmark = [pytest.mark.integration, pytest.mark.slow]

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
