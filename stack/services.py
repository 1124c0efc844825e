"""The three servers of the assistant, as the supervisor starts them: command, port, health check
and the environment each receives, all derived from the stack settings."""

import sys
from functools import partial
from pathlib import Path

from common.rasa_api import auth_headers
from stack.rasa_env import rasa_server_env
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Service
from stack.training import model_path, rasa_executable

# `rasa run` takes its JWT secret only as an argument, which every local user can read in the
# process list. Rasa's own command line is started inside this process instead, with the secret
# taken from the environment (RASA_JWT_SECRET, readable by the owner only).
RASA_RUN_LAUNCHER = (
    "import os, sys; from rasa.__main__ import main; "
    "sys.argv = ['rasa', *sys.argv[1:], '--jwt-secret', os.environ.pop('RASA_JWT_SECRET')]; "
    "sys.exit(main())"
)


def rasa_service(settings: StackSettings, root: Path = PROJECT_ROOT) -> Service:
    """The Rasa server: REST and socket.io channels, and the HTTP API behind signed tokens
    (`Authorization: Bearer <JWT>`, common/rasa_api.py), which only harnesses use."""
    base = f"http://{settings.host}:{settings.rasa_port}"
    command = [
        str(rasa_executable(root).with_name("python")),
        "-c",
        RASA_RUN_LAUNCHER,
        "run",
        "--model",
        str(model_path(root)),
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        "--enable-api",
        "--jwt-method",
        "HS256",
        "--cors",
        f"http://{settings.host}:{settings.webapp_port}",
        "--credentials",
        "credentials.yml",
        "--endpoints",
        "endpoints.yml",
    ]
    return Service(
        name="Rasa server",
        command=command,
        host=settings.host,
        port=settings.rasa_port,
        port_variable="RASA_PORT",
        health_url=f"{base}/status",
        health_headers=partial(auth_headers, settings.rasa_jwt_secret),
        url=f"{base}  (REST: {base}/webhooks/rest/webhook, socket.io: {base}/socket.io)",
        env={
            **rasa_server_env(settings),
            **tensorflow_threads_env(settings),
            "SANIC_WORKERS": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_JWT_SECRET": settings.rasa_jwt_secret,
            # The REST channel's bearer token (channels/rest.py, common/rasa_api.rest_headers).
            "RASA_REST_TOKEN": settings.rasa_rest_token,
            # The widget is served by the web app: its pages may open the socket.
            "SOCKETIO_ALLOWED_ORIGINS": f"http://{settings.host}:{settings.webapp_port}",
        },
        cwd=root,
    )


def tensorflow_threads_env(settings: StackSettings) -> dict[str, str]:
    """The Rasa server's TensorFlow thread pools: one thread each unless the settings say otherwise.

    A policy prediction is far too small to gain from several threads (see the settings).
    """
    return {
        "TF_INTRA_OP_PARALLELISM_THREADS": str(settings.tf_intra_op_parallelism_threads),
        "TF_INTER_OP_PARALLELISM_THREADS": str(settings.tf_inter_op_parallelism_threads),
    }


def action_service(settings: StackSettings, root: Path = PROJECT_ROOT) -> Service:
    base = f"http://{settings.host}:{settings.action_server_port}"
    return Service(
        name="action server",
        command=[sys.executable, "-m", "actions"],
        host=settings.host,
        port=settings.action_server_port,
        port_variable="ACTION_SERVER_PORT",
        health_url=f"{base}/health",
        url=f"{base}/webhook",
        env={
            "ACTION_SERVER_HOST": settings.host,
            "ACTION_SERVER_PORT": str(settings.action_server_port),
            "ADVISOR_DATABASE_URL": settings.advisor_database_url,
            "KNOWLEDGE_LLM_MODEL": settings.knowledge_llm_model,
        },
        cwd=root,
    )


def webapp_service(settings: StackSettings, root: Path = PROJECT_ROOT) -> Service:
    base = f"http://{settings.host}:{settings.webapp_port}"
    return Service(
        name="web app",
        command=[sys.executable, "-m", "webapp"],
        host=settings.host,
        port=settings.webapp_port,
        port_variable="WEBAPP_PORT",
        health_url=f"{base}/health",
        url=base,
        env={
            "WEBAPP_ENVIRONMENT": settings.environment,
            "WEBAPP_HOST": settings.host,
            "WEBAPP_PORT": str(settings.webapp_port),
            # The chat widget's socket.io connection goes to this Rasa server.
            "WEBAPP_RASA_PUBLIC_URL": f"http://{settings.host}:{settings.rasa_port}",
            "ADVISOR_DATABASE_URL": settings.advisor_database_url,
        },
        cwd=root,
    )


def all_services(settings: StackSettings, root: Path = PROJECT_ROOT) -> list[Service]:
    return [
        action_service(settings, root),
        rasa_service(settings, root),
        webapp_service(settings, root),
    ]
