"""`python -m advisor`: users, GDPR export and erasure, webhook delivery.

    python -m advisor create-user alice --name "Alice Martin" --role advisor   # asks the password
    python -m advisor reset-password alice          # asks the new one; closes her sessions
    python -m advisor deactivate alice              # sessions and API token withdrawn at once
    python -m advisor activate alice
    python -m advisor api-token alice [--days 90]   # expires after --days (default 90)
    python -m advisor revoke-token alice
    python -m advisor export --email jeanne@exemple.fr --output jeanne.json
    python -m advisor erase --reference VG-7K3M9Q --yes     # or --email, or --phone 0612345678
    python -m advisor purge [--older-than-days 1095] [--dry-run]   # daily: the retention
    python -m advisor deliver-webhooks [--retry-failed]    # one pass: each pending event once
    python -m advisor deliver-webhooks --watch             # the outbox worker, until SIGTERM

The database is ADVISOR_DATABASE_URL (default sqlite:///.run/advisor.db); the Rasa tracker store
that erasure and purge reach is ADVISOR_TRACKER_STORE_URL or TRACKER_STORE_URL (default
sqlite:///.run/rasa_tracker.db); exports are written under ADVISOR_EXPORT_DIR (default
.run/exports) and nowhere else. The webhook worker's settings (ADVISOR_WEBHOOK_*) are described in
advisor/config.py and docs/advisor.md; several workers may run at once.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from sqlalchemy import Engine

from advisor.auth import (
    DEFAULT_TOKEN_DAYS,
    create_user,
    issue_api_token,
    reset_password,
    revoke_api_token,
    set_active,
)
from advisor.config import AdvisorSettings
from advisor.database import ensure_schema, open_engine
from advisor.erasure import ErasureReport, Person, TrackerEvents, erase_person, purge
from advisor.errors import AdvisorError
from advisor.gdpr import export_person, write_export
from advisor.webhook import WebhookSender, WorkerProbes
from advisor.workflow import CLI
from common.logging import configure_logging, log_format_from

WORKER_SERVICE = "webhook-worker"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m advisor", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: ADVISOR_DATABASE_URL")
    commands = parser.add_subparsers(dest="command", required=True)

    user = commands.add_parser("create-user", help="create a console user")
    user.add_argument("username")
    user.add_argument("--name", required=True, help="name shown in the console")
    user.add_argument("--role", choices=["advisor", "supervisor"], required=True)
    user.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    reset = commands.add_parser("reset-password", help="set a new password; closes the sessions")
    reset.add_argument("username")
    reset.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )

    for name, text in (
        ("deactivate", "deactivate a user: sessions and API token withdrawn"),
        ("activate", "reactivate a deactivated user"),
        ("revoke-token", "withdraw a user's REST API token"),
    ):
        commands.add_parser(name, help=text).add_argument("username")

    token = commands.add_parser("api-token", help="issue (or replace) a user's REST API token")
    token.add_argument("username")
    token.add_argument(
        "--days",
        type=int,
        default=DEFAULT_TOKEN_DAYS,
        help=f"days before the token expires (default {DEFAULT_TOKEN_DAYS})",
    )

    for name, text in (
        ("export", "export a person's data"),
        ("erase", "erase a person's data from every store"),
    ):
        sub = commands.add_parser(name, help=text)
        who = sub.add_mutually_exclusive_group(required=True)
        who.add_argument("--email")
        who.add_argument("--reference")
        who.add_argument("--phone", help="a French number, written any usual way")
        if name == "export":
            sub.add_argument("--output", required=True, help="JSON file inside the export folder")
        else:
            sub.add_argument("--yes", action="store_true", help="confirm the erasure")
            sub.add_argument("--tracker-url", help="default: ADVISOR_TRACKER_STORE_URL")

    purging = commands.add_parser(
        "purge", help="delete leads, ratings and conversations older than the retention"
    )
    purging.add_argument(
        "--older-than-days",
        type=int,
        help="default: ADVISOR_RETENTION_DAYS (1095, three years)",
    )
    purging.add_argument("--dry-run", action="store_true", help="count only, delete nothing")
    purging.add_argument("--tracker-url", help="default: ADVISOR_TRACKER_STORE_URL")

    hooks = commands.add_parser("deliver-webhooks", help="send the CRM webhooks of the outbox")
    hooks.add_argument(
        "--retry-failed", action="store_true", help="give the failed events one more attempt"
    )
    hooks.add_argument(
        "--watch",
        action="store_true",
        help="run as the outbox worker until stopped (SIGTERM or Ctrl-C)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = _parser().parse_args(argv)
    settings = AdvisorSettings()
    engine = open_engine(arguments.database_url or settings.database_url)
    try:
        ensure_schema(engine)
        return _run(arguments, settings, engine)
    except AdvisorError as error:
        print(f"advisor: erreur : {error}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _read_password(from_stdin: bool) -> str | None:
    """The password typed twice (None when the two differ), or one line of standard input."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("Mot de passe : ")
    if getpass.getpass("Confirmez : ") != password:
        print("advisor: erreur : les deux saisies diffèrent.", file=sys.stderr)
        return None
    return password


def _run(arguments: argparse.Namespace, settings: AdvisorSettings, engine: Engine) -> int:
    if arguments.command == "create-user":
        password = _read_password(arguments.password_stdin)
        if password is None:
            return 2
        user = create_user(engine, arguments.username, arguments.name, arguments.role, password)
        print(f"Utilisateur « {user.username} » créé (rôle {user.role}).")
    elif arguments.command == "reset-password":
        password = _read_password(arguments.password_stdin)
        if password is None:
            return 2
        closed = reset_password(engine, arguments.username, password)
        print(
            f"Mot de passe de « {arguments.username} » changé ; "
            f"{closed} session(s) ouverte(s) fermée(s)."
        )
    elif arguments.command in ("deactivate", "activate"):
        active = arguments.command == "activate"
        set_active(engine, arguments.username, active)
        state = "réactivé" if active else "désactivé (sessions et jeton d'API retirés)"
        print(f"Compte « {arguments.username} » {state}.")
    elif arguments.command == "revoke-token":
        if revoke_api_token(engine, arguments.username):
            print(f"Jeton d'API de « {arguments.username} » révoqué.")
        else:
            print(f"« {arguments.username} » n'avait pas de jeton d'API.")
    elif arguments.command == "api-token":
        print(issue_api_token(engine, arguments.username, valid_days=arguments.days))
    elif arguments.command == "export":
        data = export_person(
            engine, email=arguments.email, reference=arguments.reference, phone=arguments.phone
        )
        path = write_export(data, arguments.output, settings.export_dir)
        print(f"{len(data['leads'])} prospect(s) exporté(s) dans {path}")
    elif arguments.command == "erase":
        if not arguments.yes:
            print("advisor: erreur : ajoutez --yes pour confirmer l'effacement.", file=sys.stderr)
            return 2
        person = Person.of(
            reference=arguments.reference, email=arguments.email, phone=arguments.phone
        )
        tracker = TrackerEvents.open(arguments.tracker_url or settings.tracker_store_url)
        try:
            report = erase_person(engine, tracker, CLI, person)
        finally:
            tracker.close()
        _print_erasure(report, _send_notices(report, settings, engine))
    elif arguments.command == "purge":
        days = arguments.older_than_days or settings.retention_days
        tracker = TrackerEvents.open(arguments.tracker_url or settings.tracker_store_url)
        try:
            result = purge(engine, tracker, CLI, days, dry_run=arguments.dry_run)
        finally:
            tracker.close()
        verb = "à supprimer" if arguments.dry_run else "supprimé(e)s"
        print(
            f"Conservation {days} jours (avant le {result.cutoff:%Y-%m-%d}) : "
            f"{result.leads} prospect(s), {result.ratings} note(s) de satisfaction, "
            f"{result.conversations} conversation(s) ({result.tracker_events} événements) {verb}."
        )
        if result.kept_for_notices:
            print(
                f"{result.kept_for_notices} prospect(s) gardé(s) : un avis d'effacement au CRM "
                "reste à envoyer (deliver-webhooks)."
            )
    elif arguments.command == "deliver-webhooks":
        if arguments.watch and not settings.webhook_url:
            return _watch(engine, None, settings)
        if not settings.webhook_url:
            print("advisor: erreur : ADVISOR_WEBHOOK_URL n'est pas défini.", file=sys.stderr)
            return 2
        try:
            sender = WebhookSender.from_settings(engine, settings)
        except ValueError as error:
            print(f"advisor: erreur : {error}", file=sys.stderr)
            return 2
        try:
            if arguments.watch:
                if arguments.retry_failed:
                    sender.requeue_failed()
                return _watch(engine, sender, settings)
            delivered, left = sender.deliver_pending(retry_failed=arguments.retry_failed)
        finally:
            sender.close()
        print(f"{delivered} webhook(s) envoyé(s), {left} en échec.")
        return 0 if left == 0 else 1
    return 0


def _watch(engine: Engine, sender: WebhookSender | None, settings: AdvisorSettings) -> int:
    """The outbox worker: passes until SIGTERM or SIGINT, then the event being sent is finished
    and the others claimed are given back; probes on ADVISOR_WEBHOOK_WORKER_PORT (0: none).
    Without a webhook URL it only waits (the events stay in the outbox until one is set), so
    that a deployment may run it whether or not a CRM is configured."""
    configure_logging(WORKER_SERVICE, "INFO", log_format_from())
    # httpx logs every request with its URL, which may hold the receiver's key.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    probes = None
    if settings.webhook_worker_port:
        probes = WorkerProbes(
            engine, settings.webhook_worker_host, settings.webhook_worker_port, sender
        )
        probes.start()
    try:
        if sender is None:
            logging.getLogger(__name__).warning(
                "ADVISOR_WEBHOOK_URL is not set: no webhook is sent, the outbox keeps the events"
            )
            stop.wait()
        else:
            sender.watch(stop)
    finally:
        if probes is not None:
            probes.stop()
    return 0


def _send_notices(report: ErasureReport, settings: AdvisorSettings, engine: Engine) -> int | None:
    """Send the erasure notices now when a webhook is configured: how many went (None: none is)."""
    if not report.notices or not settings.webhook_url:
        return None
    sender = WebhookSender.from_settings(engine, settings)
    try:
        return sum(sender.deliver(notice) for notice in report.notices)
    finally:
        sender.close()


def _print_erasure(report: ErasureReport, sent: int | None) -> None:
    references = ", ".join(report.references) or "aucun"
    print(f"Prospects anonymisés : {references}")
    print(
        f"Conversations supprimées du suivi Rasa : {report.conversations} "
        f"({report.tracker_events} événements)"
    )
    print(f"Notes de satisfaction supprimées : {report.ratings}")
    if not report.notices:
        print("Aucune copie envoyée au CRM.")
    elif sent is None:
        print(
            f"{len(report.notices)} copie(s) envoyée(s) au CRM : ADVISOR_WEBHOOK_URL n'est pas "
            "défini, prévenez le destinataire qu'il doit les effacer (références ci-dessus) ; "
            "les avis restent en attente pour deliver-webhooks."
        )
    else:
        left = len(report.notices) - sent
        print(
            f"Avis d'effacement envoyés au CRM : {sent}"
            + (
                f" ; {left} en échec pour l'instant : le service d'envoi des webhooks les "
                "réessaiera (deliver-webhooks --watch)."
                if left
                else "."
            )
        )
