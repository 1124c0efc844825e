"""The stack's settings: read once, its knowledge-base component from KNOWLEDGE_* variables."""

import pytest

from common.startup import StartupError, load_settings
from stack.settings import StackSettings

pytestmark = pytest.mark.unit


def test_the_knowledge_component_reads_its_own_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("KNOWLEDGE_STORE_DIR", str(tmp_path / "store"))
    monkeypatch.setenv("RASA_PORT", "5010")
    settings = load_settings(StackSettings)
    assert settings.rasa_port == 5010
    assert settings.knowledge.store_dir == tmp_path / "store"


def test_an_invalid_knowledge_setting_stops_the_stack_naming_its_variable(monkeypatch):
    monkeypatch.setenv("KNOWLEDGE_TOP_K", "0")
    with pytest.raises(StartupError, match=r"^invalid setting KNOWLEDGE_TOP_K: "):
        load_settings(StackSettings)


def test_make_run_answers_extractively_whatever_the_knowledge_default(monkeypatch):
    monkeypatch.delenv("KNOWLEDGE_LLM_MODEL", raising=False)
    settings = StackSettings(_env_file=None)  # type: ignore[call-arg]
    assert settings.knowledge_llm_model == ""
    assert settings.knowledge.llm_model != ""  # the package's own default is a model


def test_several_rasa_workers_need_the_redis_lock_store(monkeypatch):
    monkeypatch.setenv("RASA_WORKERS", "2")
    with pytest.raises(StartupError, match="LOCK_STORE_URL"):
        load_settings(StackSettings)
    monkeypatch.setenv("LOCK_STORE_URL", "redis://127.0.0.1:6379/0")
    assert load_settings(StackSettings).rasa_workers == 2
