"""Contact details are not evaluation data: they are masked before a rating is stored."""

import re

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# French numbers (0X XX XX XX XX, +33 X XX…, 0033…) with spaces, dots or dashes, and any other
# international number of 9 to 15 digits written with a leading +.
PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)33[\s.-]?(?:\(0\))?[\s.-]?[1-9]|0[1-9])(?:[\s.-]?\d{2}){4}(?!\d)"
    r"|(?<![\w+])\+\d(?:[\s.-]?\d){8,14}(?!\d)"
)
EMAIL_MASK = "[courriel masqué]"
PHONE_MASK = "[téléphone masqué]"


def mask_contact_details(text: str) -> str:
    """Replace the email addresses and phone numbers of a text by a marker."""
    return PHONE.sub(PHONE_MASK, EMAIL.sub(EMAIL_MASK, text))
