import socket

import pytest
from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.startup import StartupError, load_settings, port_in_use, require_free_port

pytestmark = pytest.mark.unit


class _DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")
    port: int = Field(default=1234, ge=1, le=65535)
    name: str = "x"


class _ComponentSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PART_")
    size: int = Field(default=3, ge=1)


class _DeployableSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEPLOY_")
    port: int = 1
    shared_url: str = Field(
        default="x", min_length=1, validation_alias=AliasChoices("SHARED_URL", "DEPLOY_SHARED_URL")
    )
    part: _ComponentSettings = Field(default_factory=_ComponentSettings)


class TestLoadSettings:
    def test_invalid_value_is_one_line_naming_the_variable(self, monkeypatch):
        monkeypatch.setenv("DEMO_PORT", "not-a-number")
        with pytest.raises(StartupError) as caught:
            load_settings(_DemoSettings)
        message = str(caught.value)
        assert "\n" not in message
        assert "DEMO_PORT" in message

    def test_out_of_range_port_is_refused(self, monkeypatch):
        monkeypatch.setenv("DEMO_PORT", "70000")
        with pytest.raises(StartupError, match="DEMO_PORT"):
            load_settings(_DemoSettings)

    def test_valid_environment_is_read(self, monkeypatch):
        monkeypatch.setenv("DEMO_PORT", "4321")
        assert load_settings(_DemoSettings).port == 4321

    def test_a_component_is_read_from_its_own_variables(self, monkeypatch):
        monkeypatch.setenv("PART_SIZE", "7")
        assert load_settings(_DeployableSettings).part.size == 7

    def test_a_component_error_names_the_component_variable(self, monkeypatch):
        monkeypatch.setenv("PART_SIZE", "0")
        with pytest.raises(StartupError, match=r"^invalid setting PART_SIZE: .*greater than"):
            load_settings(_DeployableSettings)

    def test_a_shared_variable_is_named_without_the_prefix(self, monkeypatch):
        monkeypatch.setenv("SHARED_URL", "")
        with pytest.raises(StartupError, match=r"^invalid setting SHARED_URL: "):
            load_settings(_DeployableSettings)


class TestPorts:
    def test_listening_port_is_in_use_and_free_port_is_not(self):
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen()
            port = server.getsockname()[1]
            assert port_in_use("127.0.0.1", port)
            with pytest.raises(StartupError, match=f"port {port}.*MY_PORT"):
                require_free_port("127.0.0.1", port, "demo server", "MY_PORT")
        assert not port_in_use("127.0.0.1", port)
