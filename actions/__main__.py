"""Start the action server: validate the settings and the port, then serve the `actions` package.

The adapters are warmed up in each serving worker before it accepts calls, and each worker sets up
its own logging (see actions/serving.py). With several workers, their metrics meet in
PROMETHEUS_MULTIPROC_DIR (a fresh directory under the temporary directory when it is not set),
emptied here before any worker starts.
"""

import os
import tempfile
from functools import partial
from pathlib import Path

from actions.settings import ActionServerSettings
from common.logging import configure_logging
from common.metrics import MULTIPROC_DIR_VARIABLE, reset_multiprocess_dir
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
    from sanic.worker.manager import WorkerManager
    from sanic.worker.process import WorkerProcess

    from actions.serving import SERVICE, serve_app

    configure_logging(SERVICE, settings.log_level, settings.log_format)
    prepare_worker_metrics(settings.workers)
    os.environ["SANIC_HOST"] = settings.host
    executor = ActionExecutor()
    executor.register_package("actions")
    # As rasa_sdk.endpoint.run, plus the warm-up listener, logging, readiness and metrics.
    loader = AppLoader(factory=partial(serve_app, executor, settings))
    app = loader.load()
    # Sanic's wait for its workers' start (tenths of a second; no setting exposes it).
    WorkerManager.THRESHOLD = WorkerProcess.THRESHOLD = round(settings.warm_up_timeout_s * 10)
    app.prepare(host=settings.host, port=settings.port, workers=settings.workers)
    Sanic.serve(primary=app, app_loader=loader)


def prepare_worker_metrics(workers: int) -> None:
    """Several workers: one metrics directory they all write to (inherited through the
    environment by the spawned workers), emptied of a previous run's files."""
    configured = os.environ.get(MULTIPROC_DIR_VARIABLE, "").strip()
    if workers == 1 and not configured:
        return
    directory = Path(configured) if configured else Path(tempfile.mkdtemp(prefix="metrics-"))
    reset_multiprocess_dir(directory)
    os.environ[MULTIPROC_DIR_VARIABLE] = str(directory)


if __name__ == "__main__":
    main()
