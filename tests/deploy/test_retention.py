"""The nightly retention purge on Kubernetes (deploy/k8s/base/retention.yaml)."""

from typing import Any

import pytest

from tests.deploy.helpers import named

pytestmark = pytest.mark.unit

Objects = tuple[dict[str, Any], ...]


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["name"]: item.get("valueFrom", {}) for item in container["env"]}


class TestRetentionPurge:
    def test_the_purge_runs_nightly_one_at_a_time_with_both_databases(
        self, manifests: Objects
    ) -> None:
        cron = named(manifests, "CronJob", "retention-purge")
        assert cron["spec"]["concurrencyPolicy"] == "Forbid"
        pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["restartPolicy"] == "Never"
        (container,) = pod["containers"]
        assert container["args"] == ["python", "-m", "advisor", "purge"]
        env = env_of(container)
        assert env["ADVISOR_DATABASE_URL"]["secretKeyRef"]["key"] == "advisor-database-url"
        # The conversations are purged in Rasa's tracker store: the same database as Rasa's.
        rasa = named(manifests, "Deployment", "rasa")["spec"]["template"]["spec"]["containers"][0]
        assert env["ADVISOR_TRACKER_STORE_URL"] == env_of(rasa)["RASA_TRACKER_URL"]
        settings = env["ADVISOR_RETENTION_DAYS"]["configMapKeyRef"]
        config_map = next(
            item
            for item in manifests
            if item["kind"] == "ConfigMap" and item["metadata"]["name"].startswith(settings["name"])
        )
        assert config_map["data"][settings["key"]] == "1095"
