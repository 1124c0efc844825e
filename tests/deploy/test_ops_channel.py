"""The Rasa server's readiness probe and metrics scrape reach a channel that is switched on.

They call /webhooks/ops/…, which exists only when credentials.yml lists the ops channel
(channels/ops.py): the repository's file (baked into the image, used by Compose and `make run`)
and the Kubernetes ConfigMap's copy."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.helpers import DEPLOY, ROOT

pytestmark = pytest.mark.unit

OPS_CHANNEL = "channels.ops.OpsInput"
CREDENTIALS = {
    "repository": ROOT / "credentials.yml",
    "kubernetes": DEPLOY / "k8s" / "base" / "config" / "credentials.yml",
}


@pytest.mark.parametrize("where", sorted(CREDENTIALS))
def test_the_ops_channel_is_listed_in_credentials(where: str) -> None:
    channels = yaml.safe_load(CREDENTIALS[where].read_text(encoding="utf-8")) or {}
    assert OPS_CHANNEL in channels, (
        f"{CREDENTIALS[where].relative_to(ROOT)} lacks `{OPS_CHANNEL}:`: the Rasa server's "
        "readiness probe (/webhooks/ops/ready) and metrics (/webhooks/ops/metrics) would 404"
    )


def test_the_channel_serves_the_paths_the_deployments_call() -> None:
    source = (ROOT / "channels" / "ops.py").read_text(encoding="utf-8")
    assert 'return "ops"' in source  # mounted by Rasa under /webhooks/ops/
    assert '"/ready"' in source
    assert '"/metrics"' in source
    compose = (DEPLOY / "compose" / "docker-compose.yml").read_text(encoding="utf-8")
    assert "http://127.0.0.1:5005/webhooks/ops/ready" in compose
