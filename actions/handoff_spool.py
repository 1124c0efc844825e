"""The spool of handoff requests the lead store could not take, handed to it again once it is back.

When the lead database cannot be reached within the person's turn, `action_hand_off` keeps the
request here and tells the person it is recorded; the action server hands the spooled requests
to the lead store again every few seconds (`flush`, started by actions/serving.py) and deletes
each one the store took. The store keeps one open lead per conversation, so a request handed off
twice (spooled, then asked for again; or flushed by two processes) still makes one lead.

- One JSON file per request, written atomically: a temporary file in the same folder, flushed to
  disk, renamed, then the folder itself synced; a crash leaves the old state or the new, never
  half a request.
- The files hold the person's contact details: the folder is created 0700, each file 0600; file
  names are random, never derived from the conversation id (a phone number on WhatsApp); logs
  name the conversation by its keyed tag only.
- Several processes may share the folder (Sanic workers; replicas on a shared volume): a file is
  locked (`flock`) while it is handed off, and one already taken and deleted is skipped.
- A file that cannot be read as a request is moved to `rejected/` for an operator, with a log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from advisor.handoff import HandoffRequest, HandoffService, HandoffUnavailableError
from common import metrics
from common.db import utc_now
from common.pseudonym import log_tag

logger = logging.getLogger(__name__)

SUFFIX = ".json"
FORMAT_VERSION = 1
REJECTED = "rejected"


class SpoolError(Exception):
    """The request could not be written to the spool (disk full, read-only, …)."""


@dataclass
class FlushReport:
    stored: int = 0
    waiting: int = 0
    rejected: int = 0


def _sync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class HandoffSpool:
    """Handoff requests waiting for the lead store, one file each under `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def keep(self, request: HandoffRequest) -> str:
        """Write the request durably; its spool id (the file name). Raises SpoolError."""
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}{SUFFIX}"
        record = {
            "version": FORMAT_VERSION,
            "spooled_at": utc_now().isoformat(),
            "request": request.model_dump(mode="json"),
        }
        data = json.dumps(record, ensure_ascii=False).encode()
        temporary = self.directory / f".{name}.tmp"
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(descriptor, data)
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
            os.replace(temporary, self.directory / name)
            _sync_directory(self.directory)
        except OSError as error:
            with contextlib.suppress(OSError):
                temporary.unlink()
            reason = type(error).__name__
            raise SpoolError(f"the handoff spool is not writable ({reason})") from error
        return name

    def pending(self) -> list[Path]:
        """The spooled requests, oldest first."""
        try:
            return sorted(
                path
                for path in self.directory.iterdir()
                if path.name.endswith(SUFFIX) and not path.name.startswith(".")
            )
        except FileNotFoundError:
            return []

    def flush(self, service: HandoffService) -> FlushReport:
        """Hand every spooled request to the store, oldest first; stop at the first sign that
        the store is still unavailable (the rest wait for the next round)."""
        report = FlushReport()
        paths = self.pending()
        for position, path in enumerate(paths):
            try:
                outcome = self._flush_one(path, service)
            except HandoffUnavailableError:
                report.waiting += len(paths) - position
                logger.info(
                    "lead store still unavailable: %d spooled handoff(s) waiting",
                    report.waiting,
                )
                break
            if outcome == "stored":
                report.stored += 1
            elif outcome == "rejected":
                report.rejected += 1
            elif outcome == "waiting":
                report.waiting += 1
        if report.stored or report.rejected:
            logger.info(
                "handoff spool: %d stored, %d rejected, %d waiting",
                report.stored,
                report.rejected,
                report.waiting,
            )
        return report

    def _flush_one(self, path: Path, service: HandoffService) -> str:
        """`stored`, `rejected`, `waiting` (another process holds it or the store refused it
        for another reason) or `gone` (taken by another process)."""
        try:
            descriptor = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            return "gone"
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return "waiting"
            if os.fstat(descriptor).st_nlink == 0:
                return "gone"  # stored and deleted by another process meanwhile
            with os.fdopen(os.dup(descriptor), "rb") as file:
                content = file.read()
            try:
                request = HandoffRequest.model_validate(json.loads(content)["request"])
            except (ValueError, KeyError, TypeError, ValidationError) as error:
                self._reject(path, error)
                return "rejected"
            try:
                receipt = service.hand_off(request)
            except HandoffUnavailableError:
                raise
            except Exception as error:  # kept for the next round, and said in the log
                logger.error(
                    "spooled handoff of conversation %s refused by the lead store (%s): kept",
                    log_tag(request.conversation_id),
                    type(error).__name__,
                )
                return "waiting"
            path.unlink()
            _sync_directory(self.directory)
        finally:
            os.close(descriptor)
        metrics.record_handoff(stored=True)
        logger.info(
            "spooled handoff of conversation %s: lead %s %s",
            log_tag(request.conversation_id),
            receipt.lead_reference,
            "stored" if receipt.created else "found open",
        )
        return "stored"

    def _reject(self, path: Path, error: Exception) -> None:
        rejected = self.directory / REJECTED
        rejected.mkdir(mode=0o700, exist_ok=True)
        os.replace(path, rejected / path.name)
        logger.error(
            "spooled handoff %s is unreadable (%s): moved to %s for an operator",
            path.name,
            type(error).__name__,
            rejected,
        )
