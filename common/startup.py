"""Start-up checks that end in one clear line instead of a traceback."""

import socket
import sys
from typing import NoReturn, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

SettingsT = TypeVar("SettingsT", bound=BaseSettings)

EXIT_STARTUP_ERROR = 2


class StartupError(RuntimeError):
    """A server cannot start; the message is one line meant for the operator."""


def port_in_use(host: str, port: int) -> bool:
    """True when something already listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def require_free_port(host: str, port: int, what: str, variable: str) -> None:
    if port_in_use(host, port):
        raise StartupError(
            f"port {port} on {host} is already in use, so the {what} cannot start: "
            f"stop the other process or set {variable}"
        )


def describe_validation_error(error: ValidationError, env_prefix: str = "") -> str:
    """One line naming each invalid setting (as its environment variable) and why."""
    problems = []
    for item in error.errors():
        field = "_".join(str(part) for part in item["loc"]) or "settings"
        name = (env_prefix + field).upper()
        problems.append(f"{name}: {item['msg']}")
    return "invalid setting " + "; ".join(problems)


def load_settings(settings_class: type[SettingsT]) -> SettingsT:
    """Read settings from the environment and .env; a StartupError names what is wrong."""
    try:
        return settings_class()
    except ValidationError as error:
        prefix = str(settings_class.model_config.get("env_prefix") or "")
        raise StartupError(describe_validation_error(error, prefix)) from error


def exit_with(error: StartupError, program: str) -> NoReturn:
    print(f"{program}: error: {error}", file=sys.stderr)
    sys.exit(EXIT_STARTUP_ERROR)
