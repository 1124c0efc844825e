import socket

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.startup import StartupError, load_settings, port_in_use, require_free_port

pytestmark = pytest.mark.unit


class _DemoSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DEMO_")
    port: int = Field(default=1234, ge=1, le=65535)
    name: str = "x"


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
