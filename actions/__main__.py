"""Start the action server: validate the settings and the port, then serve the `actions` package.

The adapters are warmed up in the serving worker before it accepts calls (see actions/serving.py).
"""

import logging
import os
from functools import partial

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
    from rasa_sdk.executor import ActionExecutor
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from actions.serving import create_app

    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    os.environ["SANIC_HOST"] = settings.host
    executor = ActionExecutor()
    executor.register_package("actions")
    # As rasa_sdk.endpoint.run, plus the warm-up listener.
    loader = AppLoader(factory=partial(create_app, executor, settings))
    app = loader.load()
    app.prepare(host=settings.host, port=settings.port, workers=1)
    Sanic.serve(primary=app, app_loader=loader)


if __name__ == "__main__":
    main()
