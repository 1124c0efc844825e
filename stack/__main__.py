"""`python -m stack run|train|rasa-env`: the commands behind `make run` and `make train`."""

import argparse
import signal
import sys
from types import FrameType

from advisor.config import AdvisorSettings
from common.startup import EXIT_STARTUP_ERROR, StartupError, exit_with, load_settings
from stack.dependencies import check_tracker_store
from stack.knowledge_base import KnowledgeBaseError, ensure_knowledge_base
from stack.rasa_env import rasa_server_env
from stack.services import all_services
from stack.settings import StackSettings
from stack.supervisor import Supervisor
from stack.training import TrainingError, model_path, train_if_needed

PROGRAM = "stack"


def _train() -> None:
    try:
        trained = train_if_needed()
    except TrainingError as error:
        raise StartupError(str(error)) from error
    print("Rasa model trained." if trained else "Rasa model up to date, training skipped.")


def _run(settings: StackSettings) -> int:
    _train()
    try:
        if ensure_knowledge_base(settings.knowledge):
            print("Knowledge base built and ingested.")
    except KnowledgeBaseError as error:
        raise StartupError(str(error)) from error
    if not model_path().exists():
        raise StartupError(f"no trained Rasa model at {model_path()}: run `make train`")
    check_tracker_store(settings.tracker_store_url)
    # The CRM webhook's worker runs when ADVISOR_WEBHOOK_URL is set.
    services = all_services(settings, advisor=load_settings(AdvisorSettings))
    supervisor = Supervisor(services, settings.run_dir / "logs", settings.startup_timeout_s)

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        supervisor.request_stop()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    print("Starting the action server, the Rasa server and the web app…", flush=True)
    try:
        supervisor.start()
    except KeyboardInterrupt:
        print("Stopped before every server was ready.")
        return 130
    print("All servers are ready:")
    for service in supervisor.services:
        print(f"  {service.name:<14} {service.url}")
    print(f"Logs in {settings.run_dir / 'logs'}. Press Ctrl-C to stop.", flush=True)
    try:
        supervisor.watch()
    finally:
        supervisor.stop()
    print("All servers stopped.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    parser.add_argument("command", choices=["run", "train", "rasa-env"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings(StackSettings)
        settings.check_secrets()
        if args.command == "train":
            _train()
            return 0
        if args.command == "rasa-env":
            for name, value in rasa_server_env(settings).items():
                print(f"export {name}='{value}'")
            return 0
        return _run(settings)
    except ValueError as error:
        exit_with(StartupError(str(error)), PROGRAM)
    except StartupError as error:
        exit_with(error, PROGRAM)
    return EXIT_STARTUP_ERROR


if __name__ == "__main__":
    sys.exit(main())
