"""The prospect journey the conversation benchmarks play (standard library only: both
environments import it)."""

# A whole prospect journey: consent, the form (a digression and a correction on the way), the
# summary, the recommendation, a question about a product, the handoff up to the lead reference.
SCRIPT: tuple[str, ...] = (
    "Bonjour",
    "Je cherche une assurance pour mon appartement",
    "J'accepte",
    "oui",
    "j'ai 35 ans",
    "Quel est le délai de carence de l'assurance animaux ?",
    "en fait j'ai 42 ans",
    "je suis locataire",
    "non",
    "salariée",
    "60 €",
    "non",
    "aucune",
    "non",
    "oui",
    "célibataire",
    "non",
    # At 42 the engine sees a retirement need: the investor profile is asked before any
    # savings product is proposed (the heaviest journey: the most turns and events).
    "aucune",
    "aucun",
    "35 000 € par an",
    "10 000 €",
    "500 € par mois",
    "préparer ma retraite",
    "20 ans",
    "prudent",
    "je peux perdre 10 %",
    "aucune",
    "oui c'est exact",
    "Le dégât des eaux est-il couvert ?",
    "je veux parler à un conseiller",
    "Camille Martin",
    "camille.martin@exemple.fr",
    "demain matin",
    "merci, au revoir",
)
# What each conversation must have received, or the run reports an error: the journey went
# where it is meant to (the form asks its questions in an order the script must follow).
MILESTONES: dict[str, str] = {
    "the recommendations": "recommendations",
    "the lead reference": "votre demande porte la référence",
}
