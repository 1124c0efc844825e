"""The three servers of the assistant, as the supervisor starts them."""

import os
import sys
from pathlib import Path

from stack.rasa_env import rasa_server_env
from stack.settings import PROJECT_ROOT, StackSettings
from stack.supervisor import Service
from stack.training import model_path, rasa_executable


def rasa_service(settings: StackSettings, root: Path = PROJECT_ROOT) -> Service:
    base = f"http://{settings.host}:{settings.rasa_port}"
    command = [
        str(rasa_executable(root)),
        "run",
        "--model",
        str(model_path(root)),
        "--interface",
        settings.host,
        "--port",
        str(settings.rasa_port),
        "--enable-api",
        "--auth-token",
        settings.rasa_auth_token,
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
        health_url=f"{base}/status?token={settings.rasa_auth_token}",
        url=f"{base}  (REST: {base}/webhooks/rest/webhook, socket.io: {base}/socket.io)",
        env={
            **rasa_server_env(settings),
            **tensorflow_threads_env(),
            "SANIC_WORKERS": "1",
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        },
        cwd=root,
    )


def tensorflow_threads_env() -> dict[str, str]:
    """One TensorFlow thread per pool for the Rasa server unless the environment says otherwise.

    TensorFlow's default pools take every core and spin while waiting; on a small machine that
    the Rasa server shares with the action server, they steal the CPU the other process needs
    (per-turn latency, docs/benchmarks.md). A policy prediction is far too small to gain from
    several threads.
    """
    return {
        name: os.environ.get(name, "1")
        for name in ("TF_INTRA_OP_PARALLELISM_THREADS", "TF_INTER_OP_PARALLELISM_THREADS")
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
