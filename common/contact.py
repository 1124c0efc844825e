"""Contact details, e-mail addresses and French phone numbers: the one module that knows their
formats, used by the conversation, the lead store and the feedback store.

- `find_email` / `find_phone`: the first address or French number written in a message
  ("camille@exemple.fr ou le 06.12.34.56.78"), as `camille@exemple.fr` and `06 12 34 56 78`;
- `normalise_email` / `normalise_phone`: a value validated for storage, the address with its domain
  in lower case, the number in E.164 (`+33612345678`); `ValueError` with a French reason otherwise.
  Accepted numbers: `06 12 34 56 78`, `06.12.34.56.78`, `0612345678`, `+33 6 12 34 56 78`,
  `+33 (0)6 12 34 56 78`, `0033612345678` (the overseas departments share the ten-digit plan);
- `mask_email` / `mask_phone`: the one format of logs, `j***@e***.fr` and `+33 6 ** ** ** 78`
  (first letter of the address and of its domain, the top-level domain; kind of line and last two
  digits of the number), `-` when there is none;
- `mask_contact_details`: a free text with every address and phone number (of any country)
  replaced by a marker, for text kept beyond the conversation.
"""

from __future__ import annotations

import re

# An address as written in a message: ASCII local part and domain, a top-level domain of letters.
_EMAIL_IN_TEXT = re.compile(
    r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}"
)
# A whole value accepted as an address (RFC 5322's unquoted local part, DNS labels).
_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
# A French number as written in a message: 0X, +33 X or 0033 X, then four pairs of digits.
_PHONE_IN_TEXT = re.compile(r"(?:\+33|0033|\b0)\s*[1-9](?:[\s.-]*\d{2}){4}\b")
_PHONE_SEPARATORS = re.compile(r"[\s.\-/]")
# A French subscriber number after the leading 0: 1-5 geographic, 6-7 mobile, 8 special, 9 VoIP.
_NATIONAL = re.compile(r"^0[1-9]\d{8}$")

# Redaction casts a wider net than reading: any address-like word, and besides French numbers any
# international number of 9 to 15 digits written with a leading +.
_ANY_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ANY_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)33[\s.-]?(?:\(0\))?[\s.-]?[1-9]|0[1-9])(?:[\s.-]?\d{2}){4}(?!\d)"
    r"|(?<![\w+])\+\d(?:[\s.-]?\d){8,14}(?!\d)"
)
EMAIL_MASK = "[courriel masqué]"
PHONE_MASK = "[téléphone masqué]"

_INVALID_EMAIL = "adresse e-mail invalide (exemple : prenom.nom@exemple.fr)"
_INVALID_PHONE = "numéro de téléphone invalide (exemples : 06 12 34 56 78 ou +33 6 12 34 56 78)"


def _national(value: str) -> str | None:
    """`0612345678` for any accepted way of writing a French number, None otherwise."""
    compact = _PHONE_SEPARATORS.sub("", value.strip()).replace("(0)", "")
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    elif compact.startswith("0033"):
        compact = "0" + compact[4:]
    return compact if _NATIONAL.match(compact) else None


def find_email(text: str) -> str | None:
    """The first address in a message, in lower case."""
    match = _EMAIL_IN_TEXT.search(text)
    return match.group().lower() if match else None


def find_phone(text: str) -> str | None:
    """The first French number in a message, as `0X XX XX XX XX`."""
    match = _PHONE_IN_TEXT.search(text)
    national = _national(match.group()) if match else None
    if national is None:
        return None
    return " ".join(national[i : i + 2] for i in range(0, 10, 2))


def normalise_email(value: str) -> str:
    """The address with its domain in lower case; ValueError when it is not an address."""
    candidate = value.strip()
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        raise ValueError(_INVALID_EMAIL)
    local, _, domain = candidate.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in local or len(local) > 64:
        raise ValueError(_INVALID_EMAIL)
    return f"{local}@{domain.lower()}"


def normalise_phone(value: str) -> str:
    """A French number as `+33XXXXXXXXX`; ValueError for anything else."""
    national = _national(value)
    if national is None:
        raise ValueError(_INVALID_PHONE)
    return "+33" + national[1:]


def mask_email(value: str | None) -> str:
    """`jeanne.martin@exemple.fr` → `j***@e***.fr`, for logs."""
    if not value or "@" not in value:
        return "-"
    local, _, domain = value.rpartition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{name[:1]}***.{tld}" if name else f"{local[:1]}***@***"


def mask_phone(value: str | None) -> str:
    """`+33612345678` or `06 12 34 56 78` → `+33 6 ** ** ** 78`, for logs."""
    if not value:
        return "-"
    national = _national(value)
    if national is not None:
        return f"+33 {national[1]} ** ** ** {national[-2:]}"
    digits = re.sub(r"\D", "", value)
    return f"** {digits[-2:]}" if len(digits) >= 4 else "**"


def mask_contact_details(text: str) -> str:
    """The text with its e-mail addresses and phone numbers replaced by a marker."""
    return _ANY_PHONE.sub(PHONE_MASK, _ANY_EMAIL.sub(EMAIL_MASK, text))
