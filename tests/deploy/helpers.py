"""What the deployment tests read: the kustomize renderings, nginx's configuration as a tree, the
Dockerfiles as stages, and the request routing of an Ingress or of nginx, computed by their rules.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
KUSTOMIZATIONS = {
    "base": DEPLOY / "k8s" / "base",
    "production": DEPLOY / "k8s" / "overlays" / "production",
}
DEBIAN_KUBECTL = (
    Path(
        os.environ.get(
            "DEPLOY_TOOLS_DIR", Path.home() / ".cache" / "insurance-assistant" / "deploy-tools"
        )
    )
    / "kubectl"
)

# Rasa's HTTP API (rasa.server): none of it may be reachable from outside.
RASA_API_PATHS = [
    "/version",
    "/status",
    "/conversations/abc/tracker",
    "/conversations/abc/tracker/events",
    "/conversations/abc/story",
    "/conversations/abc/trigger_intent",
    "/conversations/abc/predict",
    "/conversations/abc/messages",
    "/model",
    "/model/train",
    "/model/test/stories",
    "/model/test/intents",
    "/model/predict",
    "/model/parse",
    "/domain",
]
# What the outside world must reach on Rasa: the channels.
RASA_CHANNEL_PATHS = [
    "/socket.io/?EIO=4&transport=websocket",
    "/webhooks/rest/webhook",
    "/webhooks/telegram/webhook",
    "/webhooks/twilio/webhook",
]


# ------------------------------------------------------------------ kustomize


def kubectls() -> dict[str, Path]:
    """Debian's kubectl 1.20 (always: missing, the rendering test fails) and any other on PATH."""
    found = {"debian-kubectl": DEBIAN_KUBECTL}
    other = shutil.which("kubectl")
    if other and (not DEBIAN_KUBECTL.exists() or Path(other).resolve() != DEBIAN_KUBECTL.resolve()):
        found["path-kubectl"] = Path(other)
    return found


@cache
def render(kubectl: Path, target: str) -> tuple[dict[str, Any], ...]:
    """The objects `kubectl kustomize` renders for a kustomization of KUSTOMIZATIONS."""
    if not kubectl.exists():
        raise AssertionError(
            f"{kubectl} is missing: run scripts/ensure-deploy-tools (Debian's kubernetes-client)"
        )
    result = subprocess.run(
        [str(kubectl), "kustomize", str(KUSTOMIZATIONS[target])],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


def of_kind(objects: tuple[dict[str, Any], ...], kind: str) -> list[dict[str, Any]]:
    return [item for item in objects if item["kind"] == kind]


def named(objects: tuple[dict[str, Any], ...], kind: str, name: str) -> dict[str, Any]:
    matches = [item for item in of_kind(objects, kind) if item["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def pod_containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod_spec.get("initContainers", []), *pod_spec["containers"]]


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _prefix_matches(prefix: str, path: str) -> bool:
    """Kubernetes `Prefix`: matched element by element on the `/`-separated path."""
    if prefix == "/":
        return True
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


@dataclass(frozen=True)
class IngressRoute:
    ingress: str
    path: str
    service: str


def ingress_route(
    ingresses: list[dict[str, Any]], host: str, request_path: str
) -> IngressRoute | None:
    """Where an Ingress controller sends a request: an Exact path first, then the longest
    matching Prefix, among every Ingress rule of the host (as ingress-nginx merges them)."""
    path = request_path.split("?", 1)[0]
    candidates: list[tuple[int, int, IngressRoute]] = []
    for ingress in ingresses:
        for rule in ingress["spec"].get("rules", []):
            if rule.get("host") != host:
                continue
            for entry in rule["http"]["paths"]:
                kind = entry["pathType"]
                route = IngressRoute(
                    ingress["metadata"]["name"], entry["path"], entry["backend"]["service"]["name"]
                )
                if kind == "Exact" and entry["path"] == path:
                    candidates.append((1, len(entry["path"]), route))
                elif kind == "Prefix" and _prefix_matches(entry["path"], path):
                    candidates.append((0, len(entry["path"].rstrip("/")), route))
                elif kind not in ("Exact", "Prefix"):
                    raise AssertionError(f"pathType {kind} is not simulated here")
    return max(candidates, key=lambda item: item[:2])[2] if candidates else None


# ------------------------------------------------------------------ nginx


@dataclass
class Directive:
    name: str
    args: list[str]
    block: list[Directive] | None = None

    def all(self, name: str) -> list[Directive]:
        return [child for child in self.block or [] if child.name == name]

    def one(self, name: str) -> Directive:
        found = self.all(name)
        assert len(found) == 1, f"expected one `{name}` in `{self.name}`, found {len(found)}"
        return found[0]


_TOKEN = re.compile(
    r"""\s+|#[^\n]*|"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([{};])|([^\s{};"'#]+)"""
)


def parse_nginx(text: str) -> Directive:
    """nginx's configuration syntax as a tree: directives with arguments and optional blocks."""
    root = Directive("main", [], [])
    stack = [root]
    words: list[str] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise ValueError(f"nginx syntax error near {text[position : position + 30]!r}")
        position = match.end()
        double, single, punctuation, word = match.groups()
        if double is not None or single is not None:
            words.append(double if double is not None else single)
        elif word is not None:
            words.append(word)
        elif punctuation == ";":
            assert words, "empty directive"
            stack[-1].block.append(Directive(words[0], words[1:]))  # type: ignore[union-attr]
            words = []
        elif punctuation == "{":
            assert words, "block without a name"
            directive = Directive(words[0], words[1:], [])
            stack[-1].block.append(directive)  # type: ignore[union-attr]
            stack.append(directive)
            words = []
        elif punctuation == "}":
            assert not words, "a directive before `}` lacks its `;`"
            assert len(stack) > 1, "unbalanced braces"
            stack.pop()
    assert len(stack) == 1, "unterminated block"
    assert not words, "unterminated directive"
    return root


def nginx_location(server: Directive, request_path: str) -> Directive:
    """The location nginx picks: an exact `=` match, else the longest prefix (regex locations
    are refused by the tests, so this is the whole rule)."""
    path = request_path.split("?", 1)[0]
    best: tuple[int, Directive] | None = None
    for location in server.all("location"):
        modifier, prefix = location.args if len(location.args) == 2 else ("", location.args[0])
        if modifier == "=":
            if prefix == path:
                return location
            continue
        if modifier not in ("", "^~"):
            raise AssertionError(f"regex location {location.args} is not simulated here")
        if path.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), location)
    assert best is not None, f"no location for {path}"
    return best[1]


def upstream_of(config: Directive, location: Directive) -> Directive | None:
    """The upstream block a location proxies to (None when it answers itself)."""
    passes = location.all("proxy_pass")
    if not passes:
        return None
    name = re.sub(r"^https?://", "", passes[0].args[0]).split("/", 1)[0]
    http = config.one("http")
    return next(upstream for upstream in http.all("upstream") if upstream.args == [name])


def upstream_hosts(upstream: Directive) -> set[str]:
    return {server.args[0].split(":", 1)[0] for server in upstream.all("server")}


# ------------------------------------------------------------------ Dockerfiles


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [text for word, text in self.instructions if word == keyword]


def parse_dockerfile(text: str) -> tuple[dict[str, str], list[Stage]]:
    """The ARGs before the first FROM (with their defaults) and the stages, each with its
    instructions (keyword, rest of the line; continuation lines joined)."""
    logical: list[str] = []
    current = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    global_args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            parts = rest.split()
            name = parts[2] if len(parts) == 3 and parts[1].upper() == "AS" else None
            stages.append(Stage(parts[0], name))
        elif not stages:
            if keyword == "ARG" and "=" in rest:
                key, _, value = rest.partition("=")
                global_args[key] = value.strip('"')
        else:
            stages[-1].instructions.append((keyword, rest))
    return global_args, stages


# ------------------------------------------------------------------ the images' scripts


def load_script(path: Path) -> ModuleType:
    """A script of deploy/docker/ (not a package) as a module, to call its main() in process."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
