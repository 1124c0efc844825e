"""The prospect journey the conversation benchmarks play (standard library only: both
environments import it)."""

# A whole prospect journey: two stated goals and consent, the form (a digression and a correction
# on the way), the summary, a first recommendation, "Affiner" and the questions left with the
# investor profile, the second recommendation, a question about a product, the handoff up to the
# lead reference. The heaviest journey the form allows: the most turns and events.
SCRIPT: tuple[str, ...] = (
    "Bonjour",
    "Je cherche une assurance pour mon appartement et je veux préparer ma retraite",
    "J'accepte",
    "oui",
    "j'ai 35 ans",
    "Quel est le délai de carence de l'assurance animaux ?",
    "en fait j'ai 42 ans",
    "je suis locataire",
    "60 €",
    "non",
    "non",
    "oui c'est exact",
    # The first recommendation (the goals are covered); the prospect asks to refine it.
    "Affiner",
    "non",
    "salariée",
    "aucun",
    "aucune",
    "oui",
    "célibataire",
    "non",
    # The investor profile, before the retirement product can be proposed.
    "aucune",
    "aucun",
    "35 000 € par an",
    "10 000 €",
    "500 € par mois",
    "préparer ma retraite",
    "20 ans",
    "prudent",
    "je peux perdre 10 %",
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
