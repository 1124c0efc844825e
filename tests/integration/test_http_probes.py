"""The HTTP probes of issue 18 (tests/security/probes.py), each against the real servers started
once for the module: every probe must hold. `python -m benchmarks.bench_probes` prints the same
probes' counts per category."""

from collections.abc import Iterator

import pytest

from tests.security.probes import PROBES, Probe, Target, probe_stack, run_probe
from tests.services import require_service

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Target]:
    require_service("PostgreSQL", 5432)
    with probe_stack(tmp_path_factory.mktemp("probes")) as running:
        yield running


def test_every_category_of_the_issue_is_probed() -> None:
    assert {probe.category for probe in PROBES} >= {
        "REST channel",
        "Telegram",
        "WhatsApp (Twilio)",
        "Messenger",
        "socket.io (website)",
        "Rasa HTTP API",
        "Console sessions",
        "Login throttling",
        "Body limits",
        "Advisor API and console",
        "Ratings",
    }
    assert len({probe.id for probe in PROBES}) == len(PROBES)


@pytest.mark.parametrize("probe", PROBES, ids=[probe.id for probe in PROBES])
def test_the_probe_holds(target: Target, probe: Probe) -> None:
    result = run_probe(target, probe)
    print(f"{probe.id}: {result.observed}")  # shown with `pytest -s`
    assert result.held, f"{probe.attack}: expected {probe.expected}; observed {result.observed}"
