"""The Kubernetes manifests as kubectl renders them: routing, probes, limits, secrets, jobs."""

import re
from typing import Any

import pytest

from stack.rasa_env import rasa_server_env
from stack.settings import StackSettings
from tests.deploy.helpers import (
    RASA_API_PATHS,
    RASA_CHANNEL_PATHS,
    ROOT,
    ingress_route,
    named,
    of_kind,
    pod_containers,
    selects,
)

pytestmark = pytest.mark.unit

Objects = tuple[dict[str, Any], ...]

# Liveness: the process answers. Readiness: its dependencies answer too (issue 20, point 3).
HEALTH_PATHS = {
    "rasa": "/",
    "actions": "/health",
    "webapp": "/health",
    "llm-server": "/v1/models",
    "webhook-worker": "/health",
}
READY_PATHS = {
    "rasa": "/webhooks/ops/ready",
    "actions": "/ready",
    "webapp": "/ready",
    "llm-server": "/v1/models",
    "webhook-worker": "/ready",
}
# Where Prometheus scrapes each server (pod annotations).
METRICS_PATHS = {"rasa": "/webhooks/ops/metrics", "actions": "/metrics", "webapp": "/metrics"}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_KEY|DATABASE_URL|TRACKER_URL")
# The Secrets the operator creates (docs/operations.md); the manifests only refer to them.
OPERATOR_SECRETS = {"vergemont-secrets", "vergemont-channels"}


def deployments(objects: Objects) -> dict[str, dict[str, Any]]:
    return {item["metadata"]["name"]: item for item in of_kind(objects, "Deployment")}


def _policy_selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """A NetworkPolicy podSelector (matchLabels and `In` expressions) against pod labels."""
    if not selects(selector.get("matchLabels", {}), labels):
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def pod_specs(objects: Objects) -> list[tuple[str, dict[str, Any]]]:
    """(owner name, pod spec) of every Deployment and Job."""
    return [
        (item["metadata"]["name"], item["spec"]["template"]["spec"])
        for item in objects
        if item["kind"] in ("Deployment", "Job")
    ]


class TestDeployments:
    def test_the_four_servers_and_the_webhook_worker_are_deployed(self, manifests: Objects) -> None:
        assert set(deployments(manifests)) == set(HEALTH_PATHS)

    def test_every_server_has_readiness_and_liveness_probes_on_its_endpoints(
        self, manifests: Objects
    ) -> None:
        paths = {"readinessProbe": READY_PATHS, "livenessProbe": HEALTH_PATHS}
        for name, deployment in deployments(manifests).items():
            for container in deployment["spec"]["template"]["spec"]["containers"]:
                ports = {port["name"] for port in container["ports"]}
                for probe, expected in paths.items():
                    check = container.get(probe, {}).get("httpGet")
                    assert check, f"{name}: no HTTP {probe}"
                    assert check["path"] == expected[name], f"{name}: {probe} {check}"
                    assert check["port"] in ports, f"{name}: {probe} on an undeclared port"
                readiness = container["readinessProbe"]
                # The servers' dependency checks give up after 2.5 s (common/readiness.py).
                assert readiness.get("timeoutSeconds", 1) >= 3, f"{name}: readiness timeout"

    def test_our_servers_are_scraped_by_prometheus_on_their_port(self, manifests: Objects) -> None:
        for name, path in METRICS_PATHS.items():
            template = deployments(manifests)[name]["spec"]["template"]
            annotations = template["metadata"].get("annotations", {})
            ports = {
                port["containerPort"]
                for container in template["spec"]["containers"]
                for port in container["ports"]
            }
            assert annotations.get("prometheus.io/scrape") == "true", name
            assert annotations.get("prometheus.io/path") == path, name
            assert int(annotations["prometheus.io/port"]) in ports, name

    def test_prometheus_may_reach_the_metrics_ports(self, manifests: Objects) -> None:
        policies = of_kind(manifests, "NetworkPolicy")
        for name in METRICS_PATHS:
            template = deployments(manifests)[name]["spec"]["template"]
            labels = template["metadata"]["labels"]
            port = int(template["metadata"]["annotations"]["prometheus.io/port"])
            allowed = [
                policy
                for policy in policies
                if _policy_selects(policy["spec"]["podSelector"], labels)
                and any(
                    source.get("namespaceSelector", {}).get("matchLabels", {})
                    == {"kubernetes.io/metadata.name": "monitoring"}
                    and port in {entry["port"] for entry in rule.get("ports", [])}
                    for rule in policy["spec"].get("ingress", [])
                    for source in rule.get("from", [])
                )
            ]
            assert allowed, f"no NetworkPolicy lets the monitoring namespace scrape {name}"

    def test_every_container_has_requests_and_limits(self, manifests: Objects) -> None:
        for owner, spec in pod_specs(manifests):
            for container in pod_containers(spec):
                resources = container.get("resources", {})
                for bound in ("requests", "limits"):
                    assert set(resources.get(bound, {})) >= {"cpu", "memory"}, (
                        f"{owner}/{container['name']}: {bound} {resources.get(bound)}"
                    )

    def test_every_pod_runs_as_non_root_on_a_read_only_root_filesystem(
        self, manifests: Objects
    ) -> None:
        for owner, spec in pod_specs(manifests):
            pod = spec.get("securityContext", {})
            assert pod.get("runAsNonRoot") is True, owner
            assert pod.get("runAsUser", 0) != 0, owner
            assert pod.get("seccompProfile", {}).get("type") == "RuntimeDefault", owner
            assert spec.get("automountServiceAccountToken") is False, owner
            for container in pod_containers(spec):
                context = container.get("securityContext", {})
                where = f"{owner}/{container['name']}"
                assert context.get("allowPrivilegeEscalation") is False, where
                assert context.get("readOnlyRootFilesystem") is True, where
                assert context.get("capabilities", {}).get("drop") == ["ALL"], where
                assert context.get("runAsUser", 1) != 0, where

    def test_rolling_updates_never_drop_below_the_current_capacity(
        self, manifests: Objects
    ) -> None:
        for name, deployment in deployments(manifests).items():
            rolling = deployment["spec"]["strategy"]["rollingUpdate"]
            assert rolling["maxUnavailable"] == 0, name

    def test_rasa_serves_the_channels_without_its_http_api(self, manifests: Objects) -> None:
        rasa = deployments(manifests)["rasa"]["spec"]["template"]["spec"]["containers"][0]
        assert rasa["args"][:2] == ["rasa", "run"]
        assert "--enable-api" not in rasa["args"]

    def test_rasa_gets_every_variable_endpoints_yml_reads(self, manifests: Objects) -> None:
        wanted = set(re.findall(r"\$\{(\w+)\}", (ROOT / "endpoints.yml").read_text()))
        derived = set(rasa_server_env(StackSettings(lock_store_url="redis://redis:6379/0")))
        assert wanted <= derived  # what `python -m stack rasa-env` derives covers endpoints.yml
        rasa = deployments(manifests)["rasa"]["spec"]["template"]["spec"]["containers"][0]
        assert wanted <= {variable["name"] for variable in rasa["env"]}

    def test_rasa_reads_the_repository_endpoints_and_credentials_from_its_config_map(
        self, manifests: Objects
    ) -> None:
        spec = deployments(manifests)["rasa"]["spec"]["template"]["spec"]
        rasa = spec["containers"][0]
        mount = next(m for m in rasa["volumeMounts"] if m["mountPath"] == "/etc/rasa")
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        config_map = named(manifests, "ConfigMap", volume["configMap"]["name"])
        for file in ("endpoints.yml", "credentials.yml"):
            assert config_map["data"][file] == (ROOT / file).read_text(), (
                f"deploy/k8s/base/config/{file} differs from the repository's {file}"
            )
        args = rasa["args"]
        assert args[args.index("--endpoints") + 1] == "/etc/rasa/endpoints.yml"
        assert args[args.index("--credentials") + 1] == "/etc/rasa/credentials.yml"


class TestScaling:
    def test_every_deployment_has_an_autoscaler_that_owns_its_replica_count(
        self, manifests: Objects
    ) -> None:
        autoscalers = {
            item["spec"]["scaleTargetRef"]["name"]: item
            for item in of_kind(manifests, "HorizontalPodAutoscaler")
        }
        for name, deployment in deployments(manifests).items():
            autoscaler = autoscalers.get(name)
            assert autoscaler, f"{name}: no HorizontalPodAutoscaler"
            assert autoscaler["apiVersion"] == "autoscaling/v2"
            assert autoscaler["spec"]["scaleTargetRef"]["kind"] == "Deployment"
            assert autoscaler["spec"]["maxReplicas"] > autoscaler["spec"]["minReplicas"]
            # An apply would reset what the autoscaler decided.
            assert "replicas" not in deployment["spec"], f"{name}: spec.replicas is set"

    def test_the_servers_of_a_conversation_keep_two_replicas(self, manifests: Objects) -> None:
        for item in of_kind(manifests, "HorizontalPodAutoscaler"):
            if item["spec"]["scaleTargetRef"]["name"] in ("rasa", "actions", "webapp"):
                assert item["spec"]["minReplicas"] >= 2, item["metadata"]["name"]

    def test_every_deployment_has_a_disruption_budget_over_its_pods(
        self, manifests: Objects
    ) -> None:
        budgets = of_kind(manifests, "PodDisruptionBudget")
        for name, deployment in deployments(manifests).items():
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            covering = [
                budget
                for budget in budgets
                if selects(budget["spec"]["selector"]["matchLabels"], labels)
            ]
            assert len(covering) == 1, f"{name}: {len(covering)} disruption budgets"
            assert covering[0]["apiVersion"] == "policy/v1"

    def test_every_service_selects_pods_on_a_declared_port(self, manifests: Objects) -> None:
        pods = [item["spec"]["template"] for item in deployments(manifests).values()]
        for service in of_kind(manifests, "Service"):
            if service["spec"].get("type") == "ExternalName":
                continue
            selector = service["spec"]["selector"]
            chosen = [pod for pod in pods if selects(selector, pod["metadata"]["labels"])]
            assert len(chosen) == 1, service["metadata"]["name"]
            ports = {p["name"] for c in chosen[0]["spec"]["containers"] for p in c["ports"]}
            for port in service["spec"]["ports"]:
                assert port["targetPort"] in ports, service["metadata"]["name"]


class TestIngress:
    def hosts(self, objects: Objects) -> set[str]:
        return {
            rule["host"]
            for ingress in of_kind(objects, "Ingress")
            for rule in ingress["spec"]["rules"]
        }

    def test_rasa_http_api_is_not_routed_from_outside(self, manifests: Objects) -> None:
        ingresses = of_kind(manifests, "Ingress")
        for host in self.hosts(manifests):
            for path in RASA_API_PATHS:
                route = ingress_route(ingresses, host, path)
                assert route is None or route.service != "rasa", f"{path} reaches Rasa: {route}"

    def test_channels_go_to_rasa_and_the_rest_to_the_web_app(self, manifests: Objects) -> None:
        ingresses = of_kind(manifests, "Ingress")
        for host in self.hosts(manifests):
            for path in RASA_CHANNEL_PATHS:
                route = ingress_route(ingresses, host, path)
                assert route, path
                assert route.service == "rasa", path
            for path in ("/", "/conseiller/", "/api/products", "/documents/x.pdf", "/socket"):
                route = ingress_route(ingresses, host, path)
                assert route, path
                assert route.service == "webapp", path

    def test_socketio_sticks_to_one_rasa_pod_with_a_cookie(self, manifests: Objects) -> None:
        ingresses = of_kind(manifests, "Ingress")
        for host in self.hosts(manifests):
            route = ingress_route(ingresses, host, RASA_CHANNEL_PATHS[0])
            assert route is not None
            annotations = named(manifests, "Ingress", route.ingress)["metadata"]["annotations"]
            assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
            assert annotations["nginx.ingress.kubernetes.io/session-cookie-name"]
            assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600

    def test_every_backend_is_a_service_port_that_exists(self, manifests: Objects) -> None:
        services = {item["metadata"]["name"]: item for item in of_kind(manifests, "Service")}
        for ingress in of_kind(manifests, "Ingress"):
            for rule in ingress["spec"]["rules"]:
                for entry in rule["http"]["paths"]:
                    backend = entry["backend"]["service"]
                    ports = {p["name"] for p in services[backend["name"]]["spec"]["ports"]}
                    assert backend["port"]["name"] in ports


class TestSecretsAndConfiguration:
    def test_no_secret_is_embedded(self, manifests: Objects) -> None:
        assert of_kind(manifests, "Secret") == []
        for owner, spec in pod_specs(manifests):
            for container in pod_containers(spec):
                for variable in container.get("env", []):
                    if SECRET_NAME.search(variable["name"]):
                        reference = variable.get("valueFrom", {}).get("secretKeyRef")
                        assert reference, f"{owner}: {variable['name']} is not a secretKeyRef"
                        assert reference["name"] in OPERATOR_SECRETS
                    value = variable.get("value", "")
                    assert not re.search(r"://[^/@\s]*:[^/@\s]*@", value), (
                        f"{owner}: {variable['name']} holds credentials"
                    )
                for source in container.get("envFrom", []):
                    assert set(source) == {"secretRef"}, source
                    assert source["secretRef"]["name"] in OPERATOR_SECRETS
                    assert source["secretRef"]["optional"] is True

    def test_config_maps_hold_no_credentials(self, manifests: Objects) -> None:
        for config_map in of_kind(manifests, "ConfigMap"):
            for key, value in config_map["data"].items():
                assert not SECRET_NAME.search(key), key
                assert not re.search(r"://[^/@\s]*:[^/@\s]*@", value), key

    def test_every_config_map_reference_exists(self, manifests: Objects) -> None:
        config_maps = {item["metadata"]["name"]: item for item in of_kind(manifests, "ConfigMap")}
        for owner, spec in pod_specs(manifests):
            for container in pod_containers(spec):
                for variable in container.get("env", []):
                    reference = variable.get("valueFrom", {}).get("configMapKeyRef")
                    if reference:
                        data = config_maps[reference["name"]]["data"]
                        assert reference["key"] in data, f"{owner}: {reference}"


class TestReleaseJobs:
    def test_a_job_migrates_the_databases_with_alembic(self, manifests: Objects) -> None:
        migrate = named(manifests, "Job", "migrate")
        container = migrate["spec"]["template"]["spec"]["containers"][0]
        command = " ".join(container.get("command", []) + container["args"])
        assert "alembic upgrade head" in command
        assert 'alembic -x url="$ADVISOR_DATABASE_URL" upgrade head' in command
        assert migrate["spec"]["template"]["spec"]["restartPolicy"] == "Never"

    def test_servers_using_the_databases_wait_for_the_migrations(self, manifests: Objects) -> None:
        for name, deployment in deployments(manifests).items():
            spec = deployment["spec"]["template"]["spec"]
            uses_database = {
                variable["name"]
                for container in spec["containers"]
                for variable in container.get("env", [])
                if variable["name"].endswith("DATABASE_URL")
            }
            if not uses_database:
                continue
            waits = [c for c in spec.get("initContainers", []) if c["args"][0] == "wait-for-schema"]
            assert waits, f"{name} uses {uses_database} without waiting for the migrations"
            assert uses_database <= {variable["name"] for variable in waits[0]["env"]}

    def test_the_action_server_waits_for_the_ingested_corpus(self, manifests: Objects) -> None:
        spec = deployments(manifests)["actions"]["spec"]["template"]["spec"]
        (wait,) = [c for c in spec["initContainers"] if c["args"][0] == "wait-for-knowledge"]
        server = spec["containers"][0]
        knowledge = [v for v in server["env"] if v["name"].startswith(("KNOWLEDGE_", "WEAVIATE_"))]
        store_settings = [v for v in knowledge if v["name"] != "KNOWLEDGE_LLM_MODEL"]
        assert sorted(store_settings, key=str) == sorted(wait["env"], key=str)

    def test_a_job_ingests_the_corpus_into_weaviate(self, manifests: Objects) -> None:
        ingest = named(manifests, "Job", "knowledge-ingest")
        container = ingest["spec"]["template"]["spec"]["containers"][0]
        assert container["args"][:4] == ["python", "-m", "knowledge", "ingest"]
        env = {variable["name"]: variable for variable in container["env"]}
        assert env["KNOWLEDGE_STORE"]["value"] == "weaviate"


class TestProductionOverlay:
    def test_every_host_has_tls(self, production: Objects) -> None:
        for ingress in of_kind(production, "Ingress"):
            hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
            covered = {host for tls in ingress["spec"].get("tls", []) for host in tls["hosts"]}
            assert hosts <= covered, ingress["metadata"]["name"]
            assert not any(host.endswith(".invalid") for host in hosts)

    def test_images_come_from_the_registry_with_a_release_tag(self, production: Objects) -> None:
        for owner, spec in pod_specs(production):
            for container in pod_containers(spec):
                image = container["image"]
                repository, _, tag = image.rpartition(":")
                assert "." in repository.split("/")[0], f"{owner}: {image} without a registry"
                assert tag not in ("", "latest"), f"{owner}: {image}"

    def test_everything_lives_in_a_restricted_namespace(self, production: Objects) -> None:
        (namespace,) = of_kind(production, "Namespace")
        labels = namespace["metadata"]["labels"]
        assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
        for item in production:
            if item["kind"] != "Namespace":
                assert item["metadata"]["namespace"] == namespace["metadata"]["name"]

    def test_external_services_point_outside_the_namespace(self, production: Objects) -> None:
        external = {
            item["metadata"]["name"]: item["spec"]["externalName"]
            for item in of_kind(production, "Service")
            if item["spec"].get("type") == "ExternalName"
        }
        assert set(external) == {"postgresql", "redis", "weaviate"}
        assert all("." in host for host in external.values())
