"""Answer drafts: the side channel that streams an LLM answer to the website widget.

A Rasa 3.6 action hands its messages to Rasa only when it finishes. While the LLM writes, the
answer action publishes each sentence that has passed the answer check (knowledge/answering.py)
to a Redis pub/sub channel; the Rasa server's website channel (channels/website.py), subscribed
to it, emits each one as an `answer_draft` socket.io event to the conversation's room, and the
widget shows them in a provisional bubble. The final message still goes through Rasa, as every
message does, and replaces the drafts: it may differ from them (the whole answer is checked
again, and a rejected or late answer falls back to the reader).

Every subscribed Rasa replica receives every draft and emits it to the room; only the replica
holding the person's socket has anyone in it. Drafts are best effort: nothing is stored, a draft
published while no server listens is lost, and while Redis is down or ANSWER_DRAFTS_URL is unset
the person sees the final message only. See docs/knowledge-base.md, "Streaming to the widget".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

logger = logging.getLogger(__name__)

CHANNEL = "vergemont:answer-drafts"
# The conversations drafts are for: the website widget's (tracker keys "website:<session id>").
WIDGET_NAMESPACE = "website"
URL_VARIABLE = "ANSWER_DRAFTS_URL"
PASSWORD_VARIABLE = "ANSWER_DRAFTS_PASSWORD"  # noqa: S105 (a variable name)
# A draft is one sentence: longer text is not a draft and is dropped on both sides.
MAX_DRAFT_CHARS = 2000
MAX_ID_CHARS = 200

SentenceSink = Callable[[str], None]


@dataclass(frozen=True)
class Draft:
    """One checked sentence of the answer being written.

    conversation: the tracker key ("website:<session id>"); turn: the id of the user message
    being answered; index: the sentence's rank in the answer (0, 1, …).
    """

    conversation: str
    turn: str
    index: int
    text: str

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> Draft | None:
        """The draft `raw` holds, or None when it is not one (logged, never raised)."""
        try:
            data = json.loads(raw)
        except (TypeError, ValueError):
            data = None
        if not isinstance(data, dict):
            logger.warning("answer draft ignored: not a JSON object")
            return None
        conversation, turn = data.get("conversation"), data.get("turn")
        index, text = data.get("index"), data.get("text")
        if not (
            isinstance(conversation, str)
            and 0 < len(conversation) <= MAX_ID_CHARS
            and isinstance(turn, str)
            and len(turn) <= MAX_ID_CHARS
            and isinstance(index, int)
            and not isinstance(index, bool)
            and 0 <= index < 1000
            and isinstance(text, str)
            and 0 < len(text) <= MAX_DRAFT_CHARS
        ):
            logger.warning("answer draft ignored: malformed fields")
            return None
        return cls(conversation=conversation, turn=turn, index=index, text=text)


def drafts_settings_from_environment() -> tuple[str | None, str | None]:
    """ANSWER_DRAFTS_URL (a redis:// URL, or unset: no drafts) and ANSWER_DRAFTS_PASSWORD."""
    url = os.environ.get(URL_VARIABLE, "").strip() or None
    password = os.environ.get(PASSWORD_VARIABLE) or None
    return url, password


class DraftPublisher:
    """Publishes drafts to Redis; called from the thread that writes the answer.

    Never raises and never holds the answer up for long: a publish waits `timeout_s` at most,
    and after a failure the publisher stays quiet for `pause_s` (one warning), so that a Redis
    outage costs one timeout per pause, not one per sentence.
    """

    def __init__(
        self, url: str, password: str | None = None, timeout_s: float = 0.5, pause_s: float = 30.0
    ) -> None:
        import redis

        self.pause_s = pause_s
        self._client = redis.Redis.from_url(
            url, password=password, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
        self._lock = threading.Lock()
        self._paused_until = 0.0

    def publish(self, draft: Draft) -> bool:
        """Whether Redis took the draft (not whether anyone received it)."""
        from redis.exceptions import RedisError

        if time.monotonic() < self._paused_until:
            return False
        try:
            self._client.publish(CHANNEL, draft.to_json())
        except (RedisError, OSError) as error:
            with self._lock:
                if time.monotonic() >= self._paused_until:
                    logger.warning(
                        "answer drafts paused for %.0f s, Redis unreachable: %s",
                        self.pause_s,
                        type(error).__name__,
                    )
                self._paused_until = time.monotonic() + self.pause_s
            return False
        return True

    def sink(self, conversation: str, turn: str) -> SentenceSink:
        """What the answer service calls with each checked sentence of one turn's answer."""
        count = 0

        def send(text: str) -> None:
            nonlocal count
            text = text.strip()
            if not text or len(text) > MAX_DRAFT_CHARS:
                return
            self.publish(Draft(conversation, turn, count, text))
            count += 1

        return send

    def close(self) -> None:
        self._client.close()


async def relay_drafts(
    url: str,
    password: str | None,
    deliver: Callable[[Draft], Awaitable[None]],
    retry_s: float = 5.0,
    on_subscribed: Callable[[], None] | None = None,
) -> None:
    """Runs until cancelled: subscribes to the drafts channel and hands each draft to `deliver`.

    A lost connection is retried every `retry_s` (one warning until it is back); a malformed
    message or a failing `deliver` is logged and the relay goes on.
    """
    import redis.asyncio as redis_asyncio
    from redis.exceptions import RedisError

    warned = False
    while True:
        client: Any = redis_asyncio.Redis.from_url(url, password=password)
        try:
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            await pubsub.subscribe(CHANNEL)
            if warned:
                logger.info("answer drafts: Redis reachable again")
            warned = False
            if on_subscribed is not None:
                on_subscribed()
            while True:
                message = await pubsub.get_message(timeout=None)
                if message is None or message.get("type") != "message":
                    continue
                draft = Draft.from_json(message.get("data") or b"")
                if draft is None:
                    continue
                try:
                    await deliver(draft)
                except Exception:  # one failed delivery must not stop the relay
                    logger.exception("answer draft could not be delivered")
        except (RedisError, OSError) as error:
            if not warned:
                logger.warning(
                    "answer drafts off until Redis is reachable (retry every %.0f s): %s",
                    retry_s,
                    type(error).__name__,
                )
                warned = True
        finally:
            closing = getattr(client, "aclose", None) or client.close
            with contextlib.suppress(RedisError, OSError):
                await closing()
        await asyncio.sleep(retry_s)
