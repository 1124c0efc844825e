"""Outgoing webhook for new qualified leads: HMAC-SHA256 signed, retried with backoff.

The handoff writes a `pending` row in `advisor_webhook_deliveries` in the lead's own transaction
(an outbox), so a lead is never announced before it is stored and never forgotten if the CRM is
down. `WebhookSender` posts it; a failure is retried with exponential backoff, then the row is left
`failed` for `python -m advisor deliver-webhooks --retry-failed`. Payload and signature are
documented in docs/advisor.md.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import sessionmaker

from advisor.config import AdvisorSettings
from advisor.handoff import HandoffReceipt
from advisor.models import LeadRow, WebhookDeliveryRow
from advisor.schemas import WebhookErasedLead, WebhookErasure, WebhookLead, WebhookPayload
from common.db import utc_now

logger = logging.getLogger(__name__)

ERASED_EVENT = "lead.erased"  # advisor.erasure.ERASED_EVENT
SIGNATURE_HEADER = "X-Vergemont-Signature"
TIMESTAMP_HEADER = "X-Vergemont-Timestamp"
EVENT_HEADER = "X-Vergemont-Event"
DELIVERY_HEADER = "X-Vergemont-Delivery"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=` + hex HMAC-SHA256 of `timestamp.body` with the shared secret."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What the receiver does: recompute and compare in constant time."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def lead_payload(lead: LeadRow, event: str, delivery_id: int) -> dict[str, Any]:
    payload = WebhookPayload(event=event, delivery_id=delivery_id, lead=WebhookLead.of(lead))
    return payload.model_dump(mode="json")


class WebhookSender:
    def __init__(
        self,
        engine: Engine,
        url: str,
        secret: str,
        attempts: int = 5,
        backoff_s: float = 1.0,
        timeout_s: float = 10.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not secret:
            raise ValueError("ADVISOR_WEBHOOK_SECRET is required when ADVISOR_WEBHOOK_URL is set")
        self.url = url
        self.secret = secret
        self.attempts = attempts
        self.backoff_s = backoff_s
        self.timeout_s = timeout_s
        self._sleep = sleep
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, engine: Engine, settings: AdvisorSettings) -> WebhookSender:
        return cls(
            engine,
            settings.webhook_url,
            settings.webhook_secret,
            attempts=settings.webhook_attempts,
            backoff_s=settings.webhook_backoff_s,
            timeout_s=settings.webhook_timeout_s,
        )

    def deliver_in_background(self, receipt: HandoffReceipt) -> None:
        """Called after a handoff commits: deliver that lead's pending events off the request."""
        thread = threading.Thread(
            target=self.deliver_for_lead, args=(receipt.lead_reference,), daemon=True
        )
        thread.start()

    def deliver_for_lead(self, reference: str) -> int:
        with self._sessions() as session:
            ids = session.scalars(
                select(WebhookDeliveryRow.id)
                .join(LeadRow, LeadRow.id == WebhookDeliveryRow.lead_id)
                .where(LeadRow.reference == reference, WebhookDeliveryRow.status == "pending")
            ).all()
        return sum(self.deliver(delivery_id) for delivery_id in ids)

    def deliver_pending(self, retry_failed: bool = False) -> tuple[int, int]:
        """Deliver every pending (and optionally failed) event: (delivered, still undelivered)."""
        statuses = ("pending", "failed") if retry_failed else ("pending",)
        with self._sessions() as session:
            ids = session.scalars(
                select(WebhookDeliveryRow.id)
                .where(WebhookDeliveryRow.status.in_(statuses))
                .order_by(WebhookDeliveryRow.id)
            ).all()
        delivered = sum(self.deliver(delivery_id) for delivery_id in ids)
        return delivered, len(ids) - delivered

    def deliver(self, delivery_id: int) -> bool:
        """Post one event, retrying with exponential backoff; record the outcome."""
        with self._sessions() as session:
            delivery = session.get(WebhookDeliveryRow, delivery_id)
            if delivery is None or delivery.status == "delivered":
                return False
            lead = session.get(LeadRow, delivery.lead_id)
            if lead is None:
                return False
            if delivery.event == ERASED_EVENT and lead.erased_at is not None:
                # A GDPR erasure notice (advisor/erasure.py): the reference only.
                payload: dict[str, Any] = WebhookErasure(
                    event=ERASED_EVENT,
                    delivery_id=delivery.id,
                    lead=WebhookErasedLead(reference=lead.reference, erased_at=lead.erased_at),
                ).model_dump(mode="json")
            elif lead.erased_at is not None:
                return False
            else:
                payload = lead_payload(lead, delivery.event, delivery.id)
            body = json.dumps(payload, ensure_ascii=False).encode()
            event = delivery.event
        error = ""
        for attempt in range(1, self.attempts + 1):
            timestamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                SIGNATURE_HEADER: sign(self.secret, timestamp, body),
                TIMESTAMP_HEADER: timestamp,
                EVENT_HEADER: event,
                DELIVERY_HEADER: str(delivery_id),
            }
            try:
                response = httpx.post(
                    self.url, content=body, headers=headers, timeout=self.timeout_s
                )
                if 200 <= response.status_code < 300:
                    self._record(delivery_id, attempt, "delivered", None)
                    logger.info("webhook %s delivered (attempt %d)", delivery_id, attempt)
                    return True
                error = f"HTTP {response.status_code}"
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:500]
            self._record(delivery_id, attempt, "pending", error)
            logger.warning("webhook %s attempt %d failed: %s", delivery_id, attempt, error)
            if attempt < self.attempts:
                self._sleep(self.backoff_s * 2 ** (attempt - 1))
        self._record(delivery_id, self.attempts, "failed", error)
        return False

    def _record(self, delivery_id: int, attempt: int, status: str, error: str | None) -> None:
        with self._sessions() as session, session.begin():
            delivery = session.get(WebhookDeliveryRow, delivery_id)
            if delivery is None:
                return
            delivery.attempts += 1 if status != "failed" else 0
            delivery.status = status
            delivery.last_error = error
            if status == "delivered":
                delivery.delivered_at = utc_now()
