"""Contact details: validation of e-mail addresses and French phone numbers, and masking for logs.

Phones are normalised to the international form `+33XXXXXXXXX`. Accepted input: `06 12 34 56 78`,
`06.12.34.56.78`, `0612345678`, `+33 6 12 34 56 78`, `+33 (0)6 12 34 56 78`, `0033612345678`.
Numbers of the French overseas departments use the same ten-digit plan and are accepted too.
"""

from __future__ import annotations

import re

_EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
_PHONE_SEPARATORS = re.compile(r"[\s.\-/]")
# A French subscriber number after the leading 0: 1-5 geographic, 6-7 mobile, 8 special, 9 VoIP.
_NATIONAL = re.compile(r"^0[1-9]\d{8}$")


def normalise_email(value: str) -> str:
    """Return the address with its domain in lower case; ValueError when it is not an address."""
    candidate = value.strip()
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        raise ValueError("adresse e-mail invalide (exemple : prenom.nom@exemple.fr)")
    local, _, domain = candidate.rpartition("@")
    if local.startswith(".") or local.endswith(".") or ".." in local or len(local) > 64:
        raise ValueError("adresse e-mail invalide (exemple : prenom.nom@exemple.fr)")
    return f"{local}@{domain.lower()}"


def normalise_phone(value: str) -> str:
    """Return a French number as +33XXXXXXXXX; ValueError for anything else."""
    compact = _PHONE_SEPARATORS.sub("", value.strip())
    compact = compact.replace("(0)", "")
    if compact.startswith("+33"):
        compact = "0" + compact[3:]
    elif compact.startswith("0033"):
        compact = "0" + compact[4:]
    if not _NATIONAL.match(compact):
        raise ValueError(
            "numéro de téléphone invalide (exemples : 06 12 34 56 78 ou +33 6 12 34 56 78)"
        )
    return "+33" + compact[1:]


def mask_email(value: str | None) -> str:
    """`jeanne.martin@exemple.fr` → `j***@e***.fr`, for logs."""
    if not value or "@" not in value:
        return "-"
    local, _, domain = value.rpartition("@")
    name, _, tld = domain.rpartition(".")
    return f"{local[:1]}***@{name[:1]}***.{tld}" if name else f"{local[:1]}***@***"


def mask_phone(value: str | None) -> str:
    """`+33612345678` → `+33******78`, for logs."""
    if not value:
        return "-"
    return value[:3] + "*" * max(len(value) - 5, 0) + value[-2:]
