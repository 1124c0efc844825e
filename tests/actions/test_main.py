"""`python -m actions`: what it sets up before Sanic serves."""

from typing import Any

import pytest
from sanic import Sanic
from sanic.worker.manager import WorkerManager
from sanic.worker.process import WorkerProcess

from actions import __main__ as entry
from tests.services import free_port

pytestmark = pytest.mark.unit


def test_a_worker_may_warm_up_for_longer_than_sanics_thirty_seconds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served: list[Any] = []
    monkeypatch.setattr(Sanic, "serve", lambda **kwargs: served.append(kwargs))
    monkeypatch.setattr(WorkerManager, "THRESHOLD", WorkerManager.THRESHOLD)
    monkeypatch.setattr(WorkerProcess, "THRESHOLD", WorkerProcess.THRESHOLD)
    monkeypatch.setenv("ACTION_SERVER_PORT", str(free_port()))
    monkeypatch.setenv("ACTION_SERVER_WARM_UP_TIMEOUT_S", "120")
    entry.main()
    assert served  # Sanic was started, after the settings took effect
    assert WorkerManager.THRESHOLD == WorkerProcess.THRESHOLD == 1200  # tenths of a second
