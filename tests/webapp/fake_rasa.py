"""A scripted stand-in for Rasa's socket.io channel, for the widget's browser tests.

It speaks the same protocol as `channels.website.WidgetSocketIOInput` (session_request →
session_confirm, user_uttered → bot_uttered events of the form {id, text, buttons, custom}) so the
tests can send the widget exactly what they need — hostile content included — and drop or refuse
sockets on demand. The end-to-end test (tests/integration/test_widget_e2e.py) uses the real Rasa.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from typing import Any

import socketio
import uvicorn

HOSTILE_TEXT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
LONG_WORD = "A" * 5000

ANSWER = {
    "type": "answer",
    "text": "Vous disposez de 30 jours pour renoncer à votre contrat.",
    "sources": [
        {
            "document": "vg-test-conditions-generales.pdf",
            "page": 3,
            "passage": "Le souscripteur peut renoncer au contrat dans un délai de trente jours.",
            "score": 0.81,
        }
    ],
    "mode": "generated",
    "validated": True,
}

RECOMMENDATIONS = {
    "type": "recommendations",
    "items": [
        {
            "code": "VG-AUTO",
            "name": "Vergemont Auto Essentiel",
            "category": "auto",
            "reasons": ["Vous avez une voiture", "Votre budget est respecté"],
            "warnings": ["Franchise de 300 € en cas de sinistre responsable"],
            "sources": [
                {"document": "vg-test-conditions-generales.pdf", "page": 2, "passage": "Garanties."}
            ],
        },
        {
            "code": "VG-HAB",
            "name": "Vergemont Habitation Locataire",
            "category": "habitation",
            "reasons": ["Vous êtes locataire"],
            "warnings": [],
            "sources": [],
        },
    ],
}


# The texts the actions write for messaging apps, sent with their payload as one event (the
# channel joins them): the answer with its citation; the products in words, with notes after them.
ANSWER_TEXT = f"{ANSWER['text']}\n\nSource : vg-test-conditions-generales.pdf, page 3"
RECOMMENDATIONS_INTRO = "Voici les produits qui correspondent à votre situation :"
RECOMMENDATIONS_NOTE = (
    "Ces propositions sont indicatives : elles ne valent ni devis ni engagement. Seul un "
    "conseiller peut vous faire une offre personnalisée."
)
RECOMMENDATIONS_TEXT = (
    f"{RECOMMENDATIONS_INTRO}\n\n"
    "1. Vergemont Auto Essentiel (Automobile)\n   • Vous avez une voiture\n"
    "   • Votre budget est respecté\n   ⚠ Franchise de 300 € en cas de sinistre responsable\n"
    "   Source : vg-test-conditions-generales.pdf, page 2\n\n"
    "2. Vergemont Habitation Locataire (Habitation)\n   • Vous êtes locataire\n\n"
    f"{RECOMMENDATIONS_NOTE}"
)


def script(message: str) -> list[dict[str, Any]]:
    """The bot messages answering one user message."""
    lowered = message.lower()
    if "hostile" in lowered:
        return [{"text": HOSTILE_TEXT}, {"text": LONG_WORD}]
    if "renonciation" in lowered:
        return [{"text": ANSWER_TEXT, "custom": ANSWER}]
    if "recommand" in lowered or message == "/recommend":
        return [
            {
                "text": RECOMMENDATIONS_TEXT,
                "custom": RECOMMENDATIONS,
                "buttons": [
                    {"title": "En savoir plus", "payload": "/ask_more"},
                    {"title": "Parler à un conseiller", "payload": "/request_advisor"},
                ],
            }
        ]
    if "conseiller" in lowered or message == "/request_advisor":
        return [{"text": "Très bien. Quel est votre nom ?"}]
    return [{"text": f"Vous avez dit : {message}"}]


class FakeRasa:
    """socket.io server on 127.0.0.1:`port`, run by uvicorn in a thread."""

    def __init__(self, port: int, reply_delay_s: float = 0.15) -> None:
        self.port = port
        self.reply_delay_s = reply_delay_s
        self.refuse = False
        self.received: list[dict[str, Any]] = []
        self.session_requests: list[str | None] = []
        self.sids: set[str] = set()
        self.sio = socketio.AsyncServer(async_mode="asgi", cors_allowed_origins="*")
        self.loop: asyncio.AbstractEventLoop | None = None
        self._register()
        app = socketio.ASGIApp(self.sio, socketio_path="socket.io")
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def _register(self) -> None:
        sio = self.sio

        @sio.event
        async def connect(sid: str, environ: dict[str, Any], auth: Any) -> bool:
            self.loop = asyncio.get_running_loop()
            if self.refuse:
                return False
            self.sids.add(sid)
            return True

        @sio.event
        async def disconnect(sid: str, *args: Any) -> None:
            self.sids.discard(sid)

        @sio.on("session_request")
        async def session_request(sid: str, data: Any) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            self.session_requests.append(requested)
            session_id = requested or uuid.uuid4().hex
            await sio.enter_room(sid, session_id)
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on("user_uttered")
        async def user_uttered(sid: str, data: dict[str, Any]) -> None:
            self.received.append(data)
            for message in script(str(data.get("message", ""))):
                await asyncio.sleep(self.reply_delay_s)
                await sio.emit(
                    "bot_uttered", {"id": uuid.uuid4().hex, **message}, room=data["session_id"]
                )

    def start(self) -> None:
        self.thread.start()
        for _ in range(200):
            if self.server.started:
                return
            threading.Event().wait(0.05)
        raise RuntimeError("the fake Rasa server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def drop_all(self) -> None:
        """Close every socket from the server side, as a restart or a network cut would."""
        if self.loop is None:
            return

        async def drop() -> None:
            for sid in list(self.sids):
                await self.sio.disconnect(sid)

        asyncio.run_coroutine_threadsafe(drop(), self.loop).result(timeout=10)

    def messages(self) -> list[str]:
        return [str(item.get("message")) for item in self.received]
