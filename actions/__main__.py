"""Start the action server: validate the settings and the port, then serve the `actions` package."""

import logging
import os

from actions.settings import ActionServerSettings
from common.startup import StartupError, exit_with, load_settings, require_free_port

PROGRAM = "actions"


def main() -> None:
    try:
        settings = load_settings(ActionServerSettings)
        require_free_port(settings.host, settings.port, "action server", "ACTION_SERVER_PORT")
    except StartupError as error:
        exit_with(error, PROGRAM)

    # Imported here: the SDK's server stack is only needed once the checks passed.
    from rasa_sdk.endpoint import run
    from rasa_sdk.executor import ActionExecutor

    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    os.environ["SANIC_HOST"] = settings.host
    # Catalogue engine, knowledge base (embedder, store, optional LLM) and lead store: built once
    # here, before the first call, then shared by every action.
    from actions.adapters import warm_up

    warm_up(settings)
    executor = ActionExecutor()
    executor.register_package("actions")
    run(executor, port=settings.port, cors_origins=[], endpoints="endpoints.yml")


if __name__ == "__main__":
    main()
