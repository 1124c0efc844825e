"""The three servers of the assistant, and the CRM webhook's outbox worker when a webhook is
configured, as the supervisor starts them: command, port, health check and the environment each
receives, all derived from the stack settings."""

import sys
from functools import partial
from pathlib import Path

from advisor.config import AdvisorSettings
from common.rasa_api import auth_headers
from stack.rasa_env import rasa_server_env
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Service
from stack.training import model_path, rasa_executable

# AdvisorSettings.webhook_worker_port's default, when the settings turn the probes off.
DEFAULT_WEBHOOK_WORKER_PORT = 8095

# `rasa run` takes its JWT secret only as an argument, which every local user can read in the
# process list. Rasa's own command line is started inside this process instead, with the secret
# taken from the environment (RASA_JWT_SECRET, readable by the owner only).
# With several Sanic workers it first empties their shared metrics directory, if one is set
# (common/metrics.py: counts of a previous run must not be added to this one's).
RASA_RUN_LAUNCHER = (
    "import os, pathlib, sys; from rasa.__main__ import main; "
    "from common.metrics import reset_multiprocess_dir; "
    "d = os.environ.get('PROMETHEUS_MULTIPROC_DIR'); "
    "d and reset_multiprocess_dir(pathlib.Path(d)); "
    # `--jwt-secret=…` in one argument: a secret that begins with '-' is not taken for an option.
    "sys.argv = ['rasa', *sys.argv[1:], '--jwt-secret=' + os.environ.pop('RASA_JWT_SECRET')]; "
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
            "SANIC_WORKERS": str(settings.rasa_workers),
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "RASA_JWT_SECRET": settings.rasa_jwt_secret,
            # The REST channel's bearer token (channels/rest.py, common/rasa_api.rest_headers).
            "RASA_REST_TOKEN": settings.rasa_rest_token,
            # Shared with the action server: the request ids of a turn agree (common/logging.py).
            "LOG_HASH_KEY": settings.log_hash_key,
            # The widget is served by the web app: its pages may open the socket.
            "SOCKETIO_ALLOWED_ORIGINS": f"http://{settings.host}:{settings.webapp_port}",
            # The channel relays the answer drafts the action server publishes there.
            "ANSWER_DRAFTS_URL": settings.drafts_url,
            **rasa_metrics_env(settings),
        },
        cwd=root,
    )


def rasa_metrics_env(settings: StackSettings) -> dict[str, str]:
    """Several Rasa workers share their Prometheus counts through files (common/metrics.py)."""
    if settings.rasa_workers == 1:
        return {}
    directory = settings.run_dir / f"rasa-metrics-{settings.rasa_port}"
    return {"PROMETHEUS_MULTIPROC_DIR": str(directory)}


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
            # Handoffs waiting for the lead store: this stack's own, never another run's.
            "ACTION_SERVER_HANDOFF_SPOOL_DIR": str(settings.run_dir / "handoff-spool"),
            "KNOWLEDGE_LLM_MODEL": settings.knowledge_llm_model,
            "LOG_HASH_KEY": settings.log_hash_key,
            "ANSWER_DRAFTS_URL": settings.drafts_url,
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


def webhook_worker_service(
    settings: StackSettings, advisor: AdvisorSettings, root: Path = PROJECT_ROOT
) -> Service:
    """The CRM webhook's outbox worker (advisor/webhook.py) on the stack's lead store; it reads
    the webhook's URL and secret (ADVISOR_WEBHOOK_*) itself, from the environment or `.env`."""
    port = advisor.webhook_worker_port or DEFAULT_WEBHOOK_WORKER_PORT
    base = f"http://{settings.host}:{port}"
    return Service(
        name="webhook worker",
        command=[sys.executable, "-m", "advisor", "deliver-webhooks", "--watch"],
        host=settings.host,
        port=port,
        port_variable="ADVISOR_WEBHOOK_WORKER_PORT",
        health_url=f"{base}/health",
        url=f"{base}/ready",
        env={
            "ADVISOR_DATABASE_URL": settings.advisor_database_url,
            "ADVISOR_WEBHOOK_WORKER_HOST": settings.host,
            "ADVISOR_WEBHOOK_WORKER_PORT": str(port),
        },
        cwd=root,
    )


def all_services(
    settings: StackSettings, root: Path = PROJECT_ROOT, advisor: AdvisorSettings | None = None
) -> list[Service]:
    """The three servers, and the webhook worker when `advisor` has a webhook URL."""
    services = [
        action_service(settings, root),
        rasa_service(settings, root),
        webapp_service(settings, root),
    ]
    if advisor is not None and advisor.webhook_url:
        services.append(webhook_worker_service(settings, advisor, root))
    return services
