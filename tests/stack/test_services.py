"""How the stack starts the servers: the thread limits that keep them from starving each other."""

import pytest

from actions.serving import limit_torch_threads
from actions.settings import ActionServerSettings
from stack.services import rasa_service, tensorflow_threads_env
from stack.settings import StackSettings

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
