"""Fixtures of the deployment tests: every kustomization rendered by every kubectl here."""

from pathlib import Path
from typing import Any

import pytest

from tests.deploy.helpers import KUSTOMIZATIONS, kubectls, render

RENDERINGS = [
    (tool, path, target) for tool, path in kubectls().items() for target in KUSTOMIZATIONS
]


@pytest.fixture(params=RENDERINGS, ids=[f"{tool}-{target}" for tool, _path, target in RENDERINGS])
def manifests(request: pytest.FixtureRequest) -> tuple[dict[str, Any], ...]:
    """The objects of one kustomization as one kubectl renders it."""
    _tool, kubectl, target = request.param
    assert isinstance(kubectl, Path)
    return render(kubectl, target)


@pytest.fixture(params=[tool for tool in kubectls()])
def production(request: pytest.FixtureRequest) -> tuple[dict[str, Any], ...]:
    """The production overlay as each kubectl here renders it."""
    return render(kubectls()[request.param], "production")
