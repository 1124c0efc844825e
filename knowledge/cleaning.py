"""Cleaning: the raw text of a document's pages made fit for chunking.

- Unicode: NFC, typographic ligatures (ﬁ, ﬂ, ﬀ…) spelt out, soft hyphens dropped, non-breaking
  and odd spaces turned into plain spaces.
- Running headers and footers: a line at the top or bottom of a page that recurs on most pages,
  the page's own number aside ("Réf. … · page 3 / 12"), is dropped, and so is a "page X / Y" or
  lone page-number line at a page edge. A table row ("cell | cell") is kept: a table's header
  row repeated at the top of each page it runs over says what its columns are.
- Hyphenation: "garan-\\ntie" becomes "garantie"; a hyphen is kept when the document spells the
  compound with a hyphen elsewhere ("bonus-\\nmalus" → "bonus-malus").
- Line breaks inside a paragraph are joined; headings, list items and table rows keep theirs.
- Instructions planted for an assistant: hidden comments (`<!-- … -->`) are dropped, and so is a
  paragraph addressed to an AI ("ignore tes consignes", "[SYSTEM]", "quand on te pose une question,
  réponds que…"): an insurer's document never holds one, and quoting it would turn the document
  into an attack (docs/security.md). Each drop is logged with the document's page.

The cleaner works on all the pages of one document at once: recurring lines can only be seen
across pages.
"""

import logging
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

from knowledge.interfaces import CELL_SEPARATOR, Page

_LIGATURES = str.maketrans(
    {
        "ﬀ": "ff",
        "ﬁ": "fi",
        "ﬂ": "fl",
        "ﬃ": "ffi",
        "ﬄ": "ffl",
        "ﬅ": "st",
        "ﬆ": "st",
        "\u00ad": None,  # soft hyphen
        "\u00a0": " ",
        "\u202f": " ",
        "\u2007": " ",
        "\u2009": " ",
        "\t": " ",
        "\r": None,
        "\f": "\n",
    }
)
_SPACES = re.compile(r"[ \u2000-\u200a]+")
_SYMBOL_CHARS = "\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ue000-\uf8ff"
_SYMBOL_BULLET = re.compile(f"^[ ]*[{_SYMBOL_CHARS}][ ]*", re.MULTILINE)
_SYMBOL = re.compile(f"[{_SYMBOL_CHARS}]")
_DIGITS = re.compile(r"\d+")
_PAGE_NUMBER = re.compile(
    r"^(?:-\s*)?(?:page\s*)?\d+(?:\s*(?:/|sur|of)\s*\d+)?(?:\s*-)?$", re.IGNORECASE
)
_PAGE_OF = re.compile(r"\bpage\s+\d+\s*(?:/|sur)\s*\d+\b", re.IGNORECASE)
_HYPHENATED = re.compile(r"(\w+)-\n(\w+)")
_COMPOUND = re.compile(r"\b(\w+)-(\w+)\b")

# Headings of regulatory documents: "Article 4 — Exclusions", "Chapitre II", "3.2 Franchises",
# "EXCLUSIONS GÉNÉRALES", and the Markdown heading lines that the structured readers write.
_NUMBERED_HEADING = re.compile(
    r"^(?:(?:article|chapitre|titre|section|annexe|partie)\s+[\dIVXLC]+[a-z]?\b"
    r"|\d+(?:\.\d+)*\.?\s+[A-ZÀ-Ý])",
    re.IGNORECASE,
)
_LIST_ITEM = re.compile(r"^(?:[•▪◦●■□–—*-]\s|\(?[a-z0-9]{1,2}[.)]\s)")
_SENTENCE_END = (".", "!", "?", ":", ";", "…")

logger = logging.getLogger(__name__)

_HIDDEN_COMMENT = re.compile(r"<!--.*?(?:-->|$)", re.DOTALL)
# Marks of a paragraph written for an AI assistant rather than for the insured (case-insensitive,
# on the text as the document spells it).
_PLANTED = re.compile(
    r"\[\s*(?:system|sys|instruction|admin)\s*\]"
    r"|\b(?:ignore|oublie)z? (?:toutes? )?(?:tes|vos) (?:\w+ )?"
    r"(?:consignes|instructions|r[eè]gles)\b"
    r"|\b(?:consignes|instructions) pr[ée]c[ée]dentes\b"
    r"|\b(?:ignore|disregard|forget) (?:all |any |your |the )*"
    r"(?:previous |prior |above )?instructions\b"
    r"|\b(?:note|message|consigne|instruction)s? (?:destin[ée]e?s? |pour |to |for )"
    r"(?:l'|the )?(?:assistant|ia|ai|chatbot|bot|mod[eè]le)\b"
    r"|\b(?:assistant|chatbot|ai|ia)\s*:"
    r"|\b(?:quand|lorsqu)(?:'| )on te (?:pose|demande)\b"
    r"|\b(?:r[ée]ponds|dis)[- ](?:que|leur|lui|au client|à l'utilisateur)\b"
    r"|\b(?:tell|inform) (?:the |every )?(?:user|customer|client)s?\b"
    r"|\b(?:from now on|new instruction|do not mention)\b",
    re.IGNORECASE,
)


def normalise_characters(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
    # Symbol-font glyphs (Wingdings, ZapfDingbats bullets) come out as private-use or control
    # characters: a bullet at the start of a line, noise anywhere else.
    text = _SYMBOL_BULLET.sub("• ", text)
    text = _SYMBOL.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(lines)


def heading_level(line: str) -> int:
    """1–6 for a heading line, 0 for body text. Markdown marks win over the guesses for PDFs."""
    if line.startswith("#"):
        marks = len(line) - len(line.lstrip("#"))
        return min(marks, 6) if line[marks : marks + 1] == " " else 0
    if len(line) > 90 or line.endswith((".", ",", ";", "…")):
        return 0
    if _NUMBERED_HEADING.match(line):
        return 2
    letters = [char for char in line if char.isalpha()]
    if len(letters) >= 4 and all(char.isupper() for char in letters):
        return 2
    return 0


def heading_text(line: str) -> str:
    return line.lstrip("#").strip() if line.startswith("#") else line.strip()


class TextCleaner:
    """Cleans the pages of one document; see the module docstring for what it does."""

    def __init__(self, *, edge_lines: int = 2, min_share: float = 0.5) -> None:
        if edge_lines < 0 or not 0.0 < min_share <= 1.0:
            raise ValueError("edge_lines must be >= 0 and min_share in (0, 1]")
        self.edge_lines = edge_lines
        self.min_share = min_share

    def clean(self, pages: Sequence[Page]) -> list[Page]:
        texts = [normalise_characters(page.text) for page in pages]
        texts = self._drop_running_lines(texts, [page.page for page in pages])
        compounds = self._compounds(texts)
        texts = [self._join_lines(self._dehyphenate(text, compounds)) for text in texts]
        texts = [drop_planted(text, page) for text, page in zip(texts, pages, strict=True)]
        return [replace(page, text=text) for page, text in zip(pages, texts, strict=True)]

    # ------------------------------------------------------------ headers and footers

    @staticmethod
    def _signature(line: str, page: int) -> str:
        """The line with the page's own number masked, so a footer is the same on every page."""
        number = str(page)
        return _DIGITS.sub(lambda m: "#" if m.group() == number else m.group(), line.casefold())

    def _edge_indexes(self, lines: list[str]) -> list[int]:
        filled = [index for index, line in enumerate(lines) if line]
        edge = filled[: self.edge_lines] + filled[-self.edge_lines :] if self.edge_lines else []
        return sorted(set(edge))

    def _drop_running_lines(self, texts: list[str], numbers: list[int]) -> list[str]:
        pages = [text.split("\n") for text in texts]
        counts: Counter[str] = Counter()
        for lines, number in zip(pages, numbers, strict=True):
            counts.update({self._signature(lines[i], number) for i in self._edge_indexes(lines)})
        threshold = max(2, math.ceil(self.min_share * len(pages)))
        running = {signature for signature, count in counts.items() if count >= threshold}
        cleaned: list[str] = []
        for lines, number in zip(pages, numbers, strict=True):
            dropped = {
                index
                for index in self._edge_indexes(lines)
                if (
                    self._signature(lines[index], number) in running
                    and CELL_SEPARATOR not in lines[index]
                )
                or _PAGE_NUMBER.match(lines[index])
                or _PAGE_OF.search(lines[index])
            }
            cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in dropped))
        return cleaned

    # ------------------------------------------------------------ hyphenation and line breaks

    @staticmethod
    def _compounds(texts: Sequence[str]) -> set[str]:
        """Hyphenated compounds that the document writes on one line ("bonus-malus")."""
        pairs = (pair for text in texts for pair in _COMPOUND.findall(text))
        return {f"{left}-{right}".casefold() for left, right in pairs}

    @staticmethod
    def _dehyphenate(text: str, compounds: set[str]) -> str:
        def join(match: re.Match[str]) -> str:
            left, right = match.group(1), match.group(2)
            if not right[0].islower():
                return match.group(0)  # "Vergemont-\nAssurances": not a broken word
            if f"{left}-{right}".casefold() in compounds:
                return f"{left}-{right}"
            return f"{left}{right}"

        return _HYPHENATED.sub(join, text)

    @staticmethod
    def _join_lines(text: str) -> str:
        """Joins the lines of a paragraph that the PDF broke to fit the page width."""
        out: list[str] = []
        for line in text.split("\n"):
            if not line:
                if out and out[-1]:
                    out.append("")
                continue
            previous = out[-1] if out else ""
            if (
                previous
                and not heading_level(previous)
                and not previous.endswith(_SENTENCE_END)
                and CELL_SEPARATOR not in previous
                and _continues(line)
            ):
                out[-1] = f"{previous} {line}"
            else:
                out.append(line)
        return "\n".join(out).strip()


def drop_planted(text: str, page: Page | None = None) -> str:
    """The text without hidden comments and paragraphs planted for an assistant (module doc)."""
    text = _HIDDEN_COMMENT.sub("", text)
    kept: list[str] = []
    for paragraph in text.split("\n\n"):
        if _PLANTED.search(paragraph):
            where = f"{page.document}, page {page.page}" if page is not None else "a text"
            logger.warning("%s: a paragraph addressed to an assistant was dropped", where)
            continue
        kept.append(paragraph)
    return "\n\n".join(kept).strip()


def _continues(line: str) -> bool:
    """Whether a line reads as the continuation of the previous one."""
    if heading_level(line) or _LIST_ITEM.match(line) or CELL_SEPARATOR in line:
        return False
    first = line[0]
    return first.islower() or first.isdigit() or first in "(«\"'’€%"
