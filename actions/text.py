"""The prospect's messages as the actions read them: normalised text and the vocabulary file.

`normalize` is what every parser searches: lower case, accents folded, control characters, ANSI
escapes and odd spaces removed, at most `MAX_PARSED_CHARS` characters. `vocabulary()` is
`actions/vocabulary.yml`, read once: the patterns of the slot parsers and of the product
categories, written for normalised text.
"""

import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import yaml

# Longer messages are cut before parsing: nobody answers a question in more than this.
MAX_PARSED_CHARS = 500

VOCABULARY_FILE = Path(__file__).with_name("vocabulary.yml")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]?")


def normalize(text: str) -> str:
    """Lower case, accents folded, control characters and odd spaces removed, length capped."""
    text = _ANSI_ESCAPE.sub(" ", text[:MAX_PARSED_CHARS])
    text = "".join(" " if unicodedata.category(ch).startswith(("C", "Z")) else ch for ch in text)
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = folded.replace("’", "'").replace("œ", "oe")
    return re.sub(r"\s+", " ", folded).strip()


def has(text: str, patterns: Iterable[str]) -> bool:
    """Whether one of the patterns is found in the (normalised) text."""
    return any(re.search(pattern, text) for pattern in patterns)


@cache
def vocabulary() -> dict[str, Any]:
    """The vocabulary file, parsed once."""
    with VOCABULARY_FILE.open(encoding="utf-8") as file:
        data: dict[str, Any] = yaml.safe_load(file)
    return data
