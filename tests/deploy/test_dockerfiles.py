"""The images (deploy/docker/*.Dockerfile): stages, pinned bases and lock files, non-root user,
health checks, and build contexts that hold what the COPY instructions need."""

import ast
import fnmatch
import re
from pathlib import Path

import pytest

from tests.deploy.helpers import DEPLOY, ROOT, Stage, parse_dockerfile

pytestmark = pytest.mark.unit

DOCKER = DEPLOY / "docker"
# image → (Python version, lock file, health URL path, port)
IMAGES = {
    "rasa": ("3.10", "requirements/rasa.txt", "/", 5005),
    "actions": ("3.11", "requirements/app.txt", "/health", 5055),
    "webapp": ("3.11", "requirements/app.txt", "/health", 8000),
    "llm-server": ("3.11", "deploy/docker/llm-server.txt", "/v1/models", 8080),
}


def stages(image: str) -> tuple[dict[str, str], list[Stage]]:
    return parse_dockerfile((DOCKER / f"{image}.Dockerfile").read_text())


def test_every_dockerfile_is_tested() -> None:
    assert {path.name.removesuffix(".Dockerfile") for path in DOCKER.glob("*.Dockerfile")} == set(
        IMAGES
    )


@pytest.mark.parametrize("image", IMAGES)
class TestImage:
    def test_it_builds_in_stages_from_a_pinned_python(self, image: str) -> None:
        arguments, built = stages(image)
        assert len(built) >= 2
        python, *_ = IMAGES[image]
        for stage in built:
            base = re.sub(r"\$\{(\w+)\}", lambda m: arguments[m.group(1)], stage.base)
            if base in {other.name for other in built}:
                continue
            assert re.fullmatch(rf"python:{re.escape(python)}\.\d+-slim-bookworm", base), base

    def test_it_installs_from_its_lock_file(self, image: str) -> None:
        _, lock, _, _ = IMAGES[image]
        _, built = stages(image)
        copies = [text for stage in built for text in stage.all("COPY")]
        assert any(text.startswith(f"{lock} ") for text in copies), copies
        installs = " ".join(text for stage in built for text in stage.all("RUN"))
        assert "pip install -r" in installs

    def test_the_final_stage_runs_as_a_user_with_a_health_check(self, image: str) -> None:
        _, built = stages(image)
        final = built[-1]
        (user,) = final.all("USER")
        assert int(user.split(":")[0]) >= 1000
        (healthcheck,) = final.all("HEALTHCHECK")
        _, _, path, port = IMAGES[image]
        assert f"http://127.0.0.1:{port}{path}'" in healthcheck
        assert final.all("EXPOSE") == [str(port)]
        assert final.all("ENTRYPOINT") == ['["entrypoint"]']

    def test_the_build_context_holds_what_copy_needs(self, image: str) -> None:
        rules = [
            line
            for line in (DOCKER / f"{image}.Dockerfile.dockerignore").read_text().splitlines()
            if line and not line.startswith("#")
        ]
        assert rules[0] == "*"  # nothing reaches the builder unless named
        included = [rule[1:].rstrip("/") for rule in rules if rule.startswith("!")]
        _, built = stages(image)
        for stage in built:
            for text in stage.all("COPY"):
                words = [word for word in text.split() if not word.startswith("--")]
                if "--from=" in text:
                    continue
                for source in words[:-1]:
                    source = source.rstrip("/")
                    assert (ROOT / source).exists(), source
                    assert any(
                        source == rule
                        or source.startswith(rule + "/")
                        or fnmatch.fnmatch(source, rule)
                        for rule in included
                    ), f"{image}: COPY {source} is excluded from the build context"


def test_llama_cpp_python_comes_from_a_wheel_built_in_its_own_stage() -> None:
    for image in ("actions", "llm-server"):
        _, built = stages(image)
        wheel = next(stage for stage in built if stage.name == "llama-wheel")
        assert any("pip wheel" in text for text in wheel.all("RUN"))
        copies = [text for stage in built for text in stage.all("COPY")]
        assert "--from=llama-wheel /wheels /wheels" in copies
        assert any("--no-index /wheels/llama_cpp_python-" in t for s in built for t in s.all("RUN"))


def test_the_llm_server_lock_pins_the_llama_cpp_python_of_the_app() -> None:
    app = (ROOT / "requirements" / "app.txt").read_text()
    server = (DOCKER / "llm-server.txt").read_text()
    pattern = re.compile(r"^llama[-_]cpp[-_]python==(\S+)$", re.IGNORECASE | re.MULTILINE)
    app_version, server_version = pattern.search(app), pattern.search(server)
    assert app_version
    assert server_version
    assert app_version.group(1) == server_version.group(1)
    assert all("==" in line for line in server.splitlines() if not line.startswith("#"))


def test_the_rasa_model_is_trained_at_build_time() -> None:
    _, built = stages("rasa")
    model = next(stage for stage in built if stage.name == "model")
    assert any(text.startswith("/opt/venv/bin/rasa train") for text in model.all("RUN"))
    assert "--from=model /app/models/current.tar.gz models/current.tar.gz" in built[-1].all("COPY")
    command = built[-1].all("CMD")[0]
    assert "models/current.tar.gz" in command
    assert "--enable-api" not in command


def _project_imports(path: Path) -> set[str]:
    """The project modules a file imports (`actions.messages`, `common.metrics`…)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):  # imports for the type checker only never run
        if isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING"):
            node.body = []
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found |= {name for name in names if (ROOT / (name.replace(".", "/") + ".py")).exists()}
    return found


def test_the_rasa_image_holds_every_project_module_the_rasa_side_imports() -> None:
    """The connectors and components run in the Rasa image: whatever they import from the
    project (directly or not) must be copied into it."""
    _, built = stages("rasa")
    copied = [
        source.rstrip("/")
        for stage in built
        for text in stage.all("COPY")
        if "--from=" not in text
        for source in [w for w in text.split() if not w.startswith("--")][:-1]
    ]
    todo = [*ROOT.glob("channels/*.py"), *ROOT.glob("bot/**/*.py")]
    seen: set[str] = set()
    while todo:
        for module in _project_imports(todo.pop()):
            if module in seen:
                continue
            seen.add(module)
            file = module.replace(".", "/") + ".py"
            assert any(file == c or file.startswith(c + "/") for c in copied), (
                f"the Rasa image does not copy {file}"
            )
            todo.append(ROOT / file)


def test_the_rasa_image_holds_the_files_its_pipeline_reads() -> None:
    """Data files named in config.yml (the guardrail patterns) are copied too."""
    config = (ROOT / "config.yml").read_text()
    _, built = stages("rasa")
    copied = " ".join(text for stage in built for text in stage.all("COPY"))
    for path in re.findall(r"\b[\w/]+\.ya?ml\b", config) or ["actions/guardrails.yml"]:
        if (ROOT / path).exists():
            assert path in copied, f"the Rasa image does not copy {path}"
