"""The action server's Sanic app, with the adapters warmed up in the serving worker.

Sanic serves from a worker process started with "spawn": the app factory must be importable (not
defined in `__main__`), and whatever is built in the primary process is not shared. The adapters
(catalogue engine, knowledge base with its embedding model, lead store) are therefore built in a
`before_server_start` listener: ready before the first call, and the health check answers only
once they are.
"""

from functools import partial
from typing import Any

from actions.settings import ActionServerSettings


def _warm_up(settings: ActionServerSettings, app: Any) -> None:
    from actions.adapters import warm_up

    limit_torch_threads(settings.torch_threads)
    warm_up(settings)


def limit_torch_threads(threads: int) -> None:
    """Set torch's CPU threads in this worker (the embedding model runs on them)."""
    try:
        import torch
    except ImportError:  # a deployment without the knowledge base's model
        return
    torch.set_num_threads(threads)


def create_app(executor: Any, settings: ActionServerSettings) -> Any:
    """rasa_sdk's app (webhook, health, tracing) plus the warm-up listener."""
    from rasa_sdk.endpoint import create_app_for_serve

    app = create_app_for_serve(executor, cors_origins=[], endpoints="endpoints.yml")
    app.register_listener(partial(_warm_up, settings), "before_server_start")
    return app
