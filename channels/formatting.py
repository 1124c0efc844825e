"""Bot messages → what a messaging app can show.

A Rasa bot message may carry text, buttons and a `custom` payload: `answer` with sources,
`recommendations` with product cards, `categories` (the contract of `actions/messages.py`,
documented in docs/conversation.md, "Chat messages"). Messaging apps have no cards and limited or
no buttons, so `render()` turns a message into one plain text (more only past the app's length
limit) and either keeps the buttons (when the app can show all of them) or offers them as
numbered options. The message's text is shown once: an answer as the payload's words with its
sources, recommendations as the text the action wrote for messaging apps (the cards' own rendering
only stands in when there is no text). Payloads are read as untrusted data: a field of the wrong
shape is left out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

# The payload type names (a module of the standard library only, importable in this environment).
from actions.messages import ANSWER_TYPE, CATEGORIES_TYPE, RECOMMENDATIONS_TYPE

try:  # the category labels of the catalogue, when the project root is on the path
    from product_catalog.categories import CATEGORIES

    CATEGORY_LABELS = {category.code: category.label for category in CATEGORIES}
except ImportError:  # pragma: no cover - the channels still work, showing the codes
    CATEGORY_LABELS = {}

PASSAGE_CHARS = 220
MAX_SOURCES = 5


@dataclass(frozen=True)
class ChannelProfile:
    """What one messaging app can show."""

    name: str
    max_text: int  # characters per message
    max_buttons: int  # 0: no buttons at all
    max_button_title: int = 20
    max_payload_bytes: int = 1000
    bold: str = ""  # markup around a product name ("*" where the app reads it as bold)


# Telegram's callback data is at most 64 bytes; Messenger's quick-reply titles 20 characters.
TELEGRAM = ChannelProfile(
    "telegram", max_text=4096, max_buttons=8, max_button_title=64, max_payload_bytes=64
)
MESSENGER = ChannelProfile("facebook", max_text=2000, max_buttons=13, max_button_title=20)
WHATSAPP = ChannelProfile("twilio", max_text=1600, max_buttons=0, bold="*")
SLACK = ChannelProfile(
    "slack", max_text=3000, max_buttons=5, max_button_title=75, max_payload_bytes=2000, bold="*"
)


@dataclass(frozen=True)
class Option:
    title: str
    payload: str


@dataclass
class Reply:
    """The messages to send, in order, and what became of the buttons."""

    texts: list[str] = field(default_factory=list)
    buttons: list[Option] = field(default_factory=list)  # shown natively under the last text
    numbered: list[Option] = field(default_factory=list)  # offered as "1", "2"…


def _string(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _options(message: Mapping[str, Any]) -> list[Option]:
    raw = message.get("buttons") or message.get("quick_replies") or []
    options = []
    for button in raw if isinstance(raw, list) else []:
        if isinstance(button, Mapping):
            title, payload = _string(button.get("title")), _string(button.get("payload"))
            if title and payload:
                options.append(Option(title, payload))
    return options


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def source_line(source: Mapping[str, Any], documents_url: str = "") -> str | None:
    """`vg-auto-ipid.pdf, page 2 — « passage »`, with a link when the documents have a URL."""
    document = _string(source.get("document"))
    if not document:
        return None
    page = source.get("page")
    valid_page = isinstance(page, int) and not isinstance(page, bool) and page > 0
    page_number = page if valid_page else None
    line = document + (f", page {page_number}" if page_number else "")
    passage = _string(source.get("passage"))
    if passage:
        line += f" — « {_shorten(passage, PASSAGE_CHARS)} »"
    if documents_url and document.lower().endswith(".pdf"):
        anchor = f"#page={page_number}" if page_number else ""
        line += f"\n   {documents_url.rstrip('/')}/{quote(document)}{anchor}"
    return line


def _sources_block(sources: Any, documents_url: str) -> str | None:
    lines = [
        line
        for line in (
            source_line(source, documents_url)
            for source in (sources if isinstance(sources, list) else [])
            if isinstance(source, Mapping)
        )
        if line
    ][:MAX_SOURCES]
    if not lines:
        return None
    title = "Source :" if len(lines) == 1 else "Sources :"
    return title + "\n" + "\n".join(f"{number}. {line}" for number, line in enumerate(lines, 1))


def _cards_block(items: Any, profile: ChannelProfile, documents_url: str) -> str | None:
    cards: list[str] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping) or not _string(item.get("name")):
            continue
        category = _string(item.get("category"))
        label = CATEGORY_LABELS.get(category, category)
        lines = [
            f"{len(cards) + 1}. {profile.bold}{_string(item.get('name'))}{profile.bold}"
            + (f" ({label})" if label else "")
        ]
        reasons = [_string(r) for r in item.get("reasons") or [] if _string(r)]
        warnings = [_string(w) for w in item.get("warnings") or [] if _string(w)]
        if reasons:
            lines.append("   Pourquoi : " + " ; ".join(reasons))
        if warnings:
            lines.append("   Attention : " + " ; ".join(warnings))
        for source in (item.get("sources") or [])[:1]:
            line = source_line(source, documents_url) if isinstance(source, Mapping) else None
            if line:
                lines.append("   Source : " + line)
        cards.append("\n".join(lines))
    if not cards:
        return None
    return "Contrats proposés :\n" + "\n".join(cards)


def _categories_block(items: Any) -> str | None:
    lines = [
        f"• {_string(item.get('label'))} : {_string(item.get('description'))}".rstrip(" :")
        for item in (items if isinstance(items, list) else [])
        if isinstance(item, Mapping) and _string(item.get("label"))
    ]
    return "\n".join(lines) or None


def repeats_payload(text: str, custom: Mapping[str, Any]) -> bool:
    """Whether a message's text already says what its `answer` or `recommendations` payload
    holds: the answer's words, or the name of every product."""
    kind = custom.get("type")
    if kind == ANSWER_TYPE:
        answer = _string(custom.get("text"))
        return bool(answer) and answer in text
    if kind == RECOMMENDATIONS_TYPE:
        items = custom.get("items")
        names = [
            _string(item.get("name"))
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, Mapping)
        ]
        return bool(names) and all(name and name in text for name in names)
    return False


def _body(message: Mapping[str, Any], profile: ChannelProfile, documents_url: str) -> list[str]:
    text = _string(message.get("text"))
    custom = message.get("custom")
    kind = custom.get("type") if isinstance(custom, Mapping) else None
    parts: list[str | None] = []
    if kind == ANSWER_TYPE and isinstance(custom, Mapping):
        # The action's text is the answer with its citation appended: the sources block gives
        # the citation in full (passage, link) and replaces it.
        answer = _string(custom.get("text"))
        sources = _sources_block(custom.get("sources"), documents_url)
        replaced = sources is not None and repeats_payload(text, custom)
        parts.append(answer if replaced or not text else text)
        parts.append(sources)
    elif kind == RECOMMENDATIONS_TYPE and isinstance(custom, Mapping):
        # The action's text lists the products with their reasons and the notes around them;
        # the cards are written out only when the text does not name them.
        parts.append(text)
        if not repeats_payload(text, custom):
            parts.append(_cards_block(custom.get("items"), profile, documents_url))
    elif kind == CATEGORIES_TYPE and isinstance(custom, Mapping):
        # The text of the categories action already lists them; the payload is for rich clients.
        parts.append(text or _categories_block(custom.get("items")))
    else:
        parts.append(text)
    return [part for part in parts if part]


def split_text(text: str, limit: int) -> list[str]:
    """Cut a text into messages of at most `limit` characters, at paragraph or line ends if any."""
    chunks: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"))
        if cut < limit // 3:
            cut = window.rfind(" ")
        if cut < limit // 3:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest:
        chunks.append(rest)
    return chunks


def fits_natively(options: list[Option], profile: ChannelProfile) -> bool:
    return (
        0 < len(options) <= profile.max_buttons
        and all(len(o.title) <= profile.max_button_title for o in options)
        and all(len(o.payload.encode()) <= profile.max_payload_bytes for o in options)
    )


def numbered_block(options: list[Option]) -> str:
    lines = [f"{number}. {option.title}" for number, option in enumerate(options, 1)]
    return "Répondez par le numéro de votre choix :\n" + "\n".join(lines)


def render(message: Mapping[str, Any], profile: ChannelProfile, documents_url: str = "") -> Reply:
    """The text (and native buttons, or numbered options) for one bot message: one text, cut in
    several only where it is longer than the app allows."""
    parts = _body(message, profile, documents_url)
    options = _options(message)
    reply = Reply()
    if options and fits_natively(options, profile):
        reply.buttons = options
        if not parts:
            parts = ["Que souhaitez-vous faire ?"]
    elif options:
        reply.numbered = options
        parts.append(numbered_block(options))
    if parts:
        reply.texts = split_text("\n\n".join(parts), profile.max_text)
    return reply
