"""Start-up checks that end in one clear line instead of a traceback.

A deployable reads its settings once with `load_settings` (its components, the packages' own
settings classes, are read with it from their own variables), checks its port with
`require_free_port`, and on a `StartupError` exits with `exit_with`: one line on stderr, exit
status 2.
"""

import socket
import sys
from collections.abc import Collection
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


def describe_validation_error(
    error: ValidationError, env_prefix: str = "", fields: Collection[str] = ()
) -> str:
    """One line naming each invalid setting (as its environment variable) and why.

    A location that is not one of `fields` is a variable name of its own (a validation alias such
    as ADVISOR_DATABASE_URL) and gets no prefix.
    """
    problems = []
    for item in error.errors():
        location = [str(part) for part in item["loc"]]
        if not location:  # a check of several values together
            name = env_prefix + "*" if env_prefix else "settings"
        elif fields and location[0] not in fields:
            name = "_".join(location)
        else:
            name = env_prefix + "_".join(location)
        problems.append(f"{name.upper()}: {item['msg']}")
    return "invalid setting " + "; ".join(problems)


def _source_of(error: ValidationError, settings_class: type[BaseSettings]) -> type[BaseSettings]:
    """The settings class that refused a value: the deployable's, or one of its components (a
    field whose type is a settings class, read from its own variables when the deployable's is
    built)."""
    for field in settings_class.model_fields.values():
        component = field.annotation
        if (
            isinstance(component, type)
            and issubclass(component, BaseSettings)
            and component.__name__ == error.title
        ):
            return component
    return settings_class


def load_settings(settings_class: type[SettingsT]) -> SettingsT:
    """Read settings from the environment and .env; a StartupError names what is wrong."""
    try:
        return settings_class()
    except ValidationError as error:
        source = _source_of(error, settings_class)
        prefix = str(source.model_config.get("env_prefix") or "")
        message = describe_validation_error(error, prefix, tuple(source.model_fields))
        raise StartupError(message) from error


def exit_with(error: StartupError, program: str) -> NoReturn:
    print(f"{program}: error: {error}", file=sys.stderr)
    sys.exit(EXIT_STARTUP_ERROR)
