"""What the console says: the French names of channels, filters, sorts and history events, its flash
messages. A lead's profile is said by `webapp.console.profile`."""

from advisor.qualification import LEVEL_LABELS
from advisor.workflow import STATUS_LABELS
from product_catalog.categories import CATEGORIES

PAGE_SIZE = 50  # leads per page of the queue (and of the API's list, by default)

CHANNEL_LABELS = {
    "website": "Site web",
    "telegram": "Telegram",
    "whatsapp": "WhatsApp",
    "messenger": "Messenger",
    "slack": "Slack",
    "rest": "API",
    "other": "Autre",
}
AGE_LABELS = {
    "24h": "Moins de 24 h",
    "7j": "1 à 7 jours",
    "30j": "7 à 30 jours",
    "plus": "Plus de 30 jours",
}
SORT_LABELS = {"recent": "Plus récents", "ancien": "Plus anciens", "score": "Meilleur score"}
# The message codes a redirect after a form carries (`?info=claimed`), and what they say.
MESSAGES = {
    "claimed": "Vous avez pris ce prospect en charge.",
    "status": "Le statut a été mis à jour.",
    "note": "La note a été ajoutée.",
    "saved": "Le brouillon a été enregistré.",
    "frozen": "Le devoir de conseil a été validé et figé.",
    "draft": "Un brouillon est ouvert.",
    "logout": "Vous êtes déconnecté.",
}
# The actions of a lead's history (advisor.audit), as the page lists them.
AUDIT_LABELS = {
    "created": "Prospect transmis",
    "claimed": "Pris en charge",
    "status_changed": "Statut modifié",
    "note_added": "Note ajoutée",
    "advice_drafted": "Devoir de conseil : brouillon ouvert",
    "advice_edited": "Devoir de conseil : brouillon modifié",
    "advice_frozen": "Devoir de conseil validé et figé",
    "erased": "Données effacées à la demande de la personne",
    "contact_updated": "Coordonnées mises à jour par la personne",
}
CATEGORY_LABELS = {category.code: category.label for category in CATEGORIES}
# Given to every page's template.
COMMON = {
    "status_labels": STATUS_LABELS,
    "level_labels": LEVEL_LABELS,
    "channel_labels": CHANNEL_LABELS,
    "category_labels": CATEGORY_LABELS,
    "audit_labels": AUDIT_LABELS,
}
