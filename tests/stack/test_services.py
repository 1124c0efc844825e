"""How the stack starts the servers: the thread limits that keep them from starving each other, and
the Rasa HTTP API's secret kept out of the process list and of URLs."""

import subprocess
import sys
from pathlib import Path

import pytest

from actions.serving import limit_torch_threads
from actions.settings import ActionServerSettings
from stack.services import (
    RASA_RUN_LAUNCHER,
    action_service,
    rasa_service,
    tensorflow_threads_env,
)
from stack.settings import StackSettings
from stack.supervisor import Service

pytestmark = pytest.mark.unit

TF_VARIABLES = ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS")


def test_the_rasa_server_gets_one_tensorflow_thread_per_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in TF_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    service = rasa_service(StackSettings(_env_file=None))  # type: ignore[call-arg]
    assert {name: service.env[name] for name in TF_VARIABLES} == dict.fromkeys(TF_VARIABLES, "1")


def test_an_operator_setting_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TF_INTRA_OP_PARALLELISM_THREADS", "4")
    monkeypatch.delenv("TF_INTER_OP_PARALLELISM_THREADS", raising=False)
    assert tensorflow_threads_env(StackSettings(_env_file=None)) == {  # type: ignore[call-arg]
        "TF_INTRA_OP_PARALLELISM_THREADS": "4",
        "TF_INTER_OP_PARALLELISM_THREADS": "1",
    }


def test_the_action_server_embeds_on_one_torch_thread_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ACTION_SERVER_TORCH_THREADS", raising=False)
    assert ActionServerSettings(_env_file=None).torch_threads == 1  # type: ignore[call-arg]
    monkeypatch.setenv("ACTION_SERVER_TORCH_THREADS", "0")
    with pytest.raises(ValueError, match="greater than or equal to 1"):
        ActionServerSettings(_env_file=None)  # type: ignore[call-arg]


def test_limit_torch_threads_sets_them() -> None:
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    try:
        limit_torch_threads(1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


class TestRasaHttpApiAccess:
    """The HTTP API's secret reaches Rasa through the environment, and the health check signs a
    token for the header: neither the process list nor a URL holds a secret."""

    SECRET = "a-secret-of-this-test-only-0123456789"

    def service(self) -> Service:
        return rasa_service(StackSettings(rasa_jwt_secret=self.SECRET, _env_file=None))  # type: ignore[call-arg]

    def test_the_secret_is_in_the_environment_not_in_the_command(self) -> None:
        service = self.service()
        assert not any(self.SECRET in argument for argument in service.command)
        assert "--auth-token" not in service.command
        assert service.env["RASA_JWT_SECRET"] == self.SECRET

    def test_the_rest_token_and_the_widget_origin_reach_rasa_through_the_environment(self) -> None:
        settings = StackSettings(rasa_rest_token="t" * 40, webapp_port=8123, _env_file=None)  # type: ignore[call-arg]
        service = rasa_service(settings)
        assert service.env["RASA_REST_TOKEN"] == "t" * 40
        assert not any("t" * 40 in argument for argument in service.command)
        assert service.env["SOCKETIO_ALLOWED_ORIGINS"] == "http://127.0.0.1:8123"

    def test_the_launcher_hands_the_secret_to_rasa_run(self, tmp_path: Path) -> None:
        # A stand-in for Rasa's command line that prints the arguments it receives.
        _stand_in_rasa(
            tmp_path,
            "import os, sys\n"
            "def main():\n"
            "    print(' '.join(sys.argv), 'RASA_JWT_SECRET' in os.environ)\n"
            "    return 0\n",
        )
        service = self.service()
        launched = subprocess.run(
            [sys.executable, *service.command[1:3], "run", "--enable-api"],
            env={"RASA_JWT_SECRET": self.SECRET, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            check=True,
        )
        # The secret reaches `rasa run` and leaves the environment its children would inherit.
        assert launched.stdout.split() == [
            "rasa", "run", "--enable-api", f"--jwt-secret={self.SECRET}", "False"
        ]  # fmt: skip

    def test_a_secret_beginning_with_a_dash_reaches_rasa(self, tmp_path: Path) -> None:
        """Random secrets may begin with '-' (one in 64 of URL-safe ones): `--jwt-secret -x…`
        made Rasa's argument parser stop with 'expected one argument'."""
        _stand_in_rasa(
            tmp_path,
            "import argparse\n"
            "def main():\n"
            "    parser = argparse.ArgumentParser(prog='rasa')\n"
            "    parser.add_argument('command')\n"
            "    parser.add_argument('--jwt-secret')\n"
            "    print(parser.parse_args().jwt_secret)\n"
            "    return 0\n",
        )
        secret = "-Zq3dashfirst_" + self.SECRET
        launched = subprocess.run(
            [sys.executable, *self.service().command[1:3], "run"],
            env={"RASA_JWT_SECRET": secret, "PYTHONPATH": str(tmp_path)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert launched.returncode == 0, launched.stderr
        assert launched.stdout.strip() == secret

    def test_the_health_check_sends_a_bearer_token_not_a_url_token(self) -> None:
        service = self.service()
        assert "token" not in service.health_url
        first, second = service.health_headers(), service.health_headers()
        assert first["Authorization"].startswith("Bearer ")
        assert self.SECRET not in first["Authorization"]
        assert second["Authorization"].startswith("Bearer ")


def _stand_in_rasa(root: Path, main_module: str) -> None:
    """A `rasa` package under `root` whose `rasa.__main__` is `main_module`, for the launcher."""
    (root / "rasa").mkdir()
    (root / "rasa" / "__init__.py").write_text("")
    (root / "rasa" / "__main__.py").write_text(main_module)


def test_the_rasa_and_action_servers_share_one_log_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both derive a turn's request id from a keyed tag of the conversation (common/logging.py):
    without one key they would log two unrelated ids."""
    monkeypatch.delenv("LOG_HASH_KEY", raising=False)
    settings = StackSettings(_env_file=None)  # type: ignore[call-arg]
    key = rasa_service(settings).env["LOG_HASH_KEY"]
    assert action_service(settings).env["LOG_HASH_KEY"] == key
    assert len(key) >= 32
    assert StackSettings(_env_file=None).log_hash_key != key  # type: ignore[call-arg]


def test_several_rasa_workers_share_a_metrics_directory(tmp_path: Path) -> None:
    one = rasa_service(StackSettings(_env_file=None, run_dir=tmp_path))  # type: ignore[call-arg]
    assert one.env["SANIC_WORKERS"] == "1"
    assert "PROMETHEUS_MULTIPROC_DIR" not in one.env
    two = rasa_service(
        StackSettings(  # type: ignore[call-arg]
            _env_file=None,
            run_dir=tmp_path,
            rasa_workers=2,
            lock_store_url="redis://127.0.0.1:6379/0",
        )
    )
    assert two.env["SANIC_WORKERS"] == "2"
    assert Path(two.env["PROMETHEUS_MULTIPROC_DIR"]).parent == tmp_path


def test_the_rasa_launcher_empties_the_metrics_directory_before_rasa_starts(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_123.db").write_bytes(b"old counts")
    # The launcher up to Rasa's command line, without Rasa.
    without_rasa = RASA_RUN_LAUNCHER.replace("from rasa.__main__ import main; ", "")
    prologue = without_rasa.split("sys.argv")[0]
    subprocess.run(
        [sys.executable, "-c", prologue],
        check=True,
        env={"PROMETHEUS_MULTIPROC_DIR": str(directory), "PYTHONPATH": str(Path.cwd())},
    )
    assert directory.is_dir()
    assert not any(directory.iterdir())
