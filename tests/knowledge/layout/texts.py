"""French text of the generated layout PDFs: the clauses of a fictional mutual insurer's booklet.

Every sentence is written for these tests from templates and word lists below, drawn with a
seeded random generator, so a document is the same on every run and its text is known. None of
it comes from the project's own corpus (the insurer, its products and its wording differ).
"""

import random
from collections.abc import Sequence

INSURER = "Mutuelle du Val de Brenne"

PRODUCTS = (
    "Habitation Sérénité",
    "Auto Horizon",
    "Santé Équilibre",
    "Prévoyance Famille",
    "Multirisque Commerçant",
)

_GOODS = (
    "le mobilier",
    "les appareils électroménagers",
    "les bijoux et objets de valeur",
    "les vélos à assistance électrique",
    "les instruments de musique",
    "le matériel informatique",
    "les vêtements et effets personnels",
    "les denrées du congélateur",
    "la véranda",
    "les dépendances de plus de vingt mètres carrés",
    "la piscine enterrée",
    "les panneaux photovoltaïques",
    "les clôtures et portails",
    "les arbres et plantations",
    "la cave à vin",
    "les collections de timbres ou de monnaies",
    "le linge de maison",
    "les équipements de jardin",
    "les aménagements intérieurs",
    "les marchandises entreposées",
)
_EVENTS = (
    "un dégât des eaux",
    "un incendie",
    "une tempête",
    "la grêle",
    "le poids de la neige sur les toitures",
    "un vol par effraction",
    "une tentative de cambriolage",
    "un acte de vandalisme",
    "une catastrophe naturelle reconnue par arrêté",
    "un bris de glace",
    "une surtension électrique",
    "la chute de la foudre",
    "le débordement d'une canalisation",
    "l'effondrement d'une toiture",
    "une inondation",
    "un glissement de terrain",
    "une explosion",
    "le refoulement des égouts",
)
_PEOPLE = (
    "l'assuré",
    "le souscripteur",
    "le conjoint de l'assuré",
    "le bénéficiaire désigné",
    "l'emprunteur",
    "le conducteur habituel",
    "le locataire",
    "le propriétaire non occupant",
    "chaque personne vivant au foyer",
    "l'adhérent",
)
_DELAYS = (
    "deux jours ouvrés",
    "cinq jours ouvrés",
    "dix jours",
    "quinze jours",
    "trente jours",
    "deux mois",
    "trois mois",
    "six mois",
    "douze mois",
)
_AMOUNTS = (
    "150 €",
    "230 €",
    "380 €",
    "500 €",
    "760 €",
    "1 200 €",
    "2 500 €",
    "4 000 €",
    "7 500 €",
    "15 000 €",
    "30 000 €",
    "80 000 €",
)
_PERCENTS = ("5 %", "10 %", "15 %", "20 %", "25 %", "33 %", "50 %", "70 %", "80 %", "100 %")
_CONDITIONS = (
    "si toutes les issues étaient fermées à clé",
    "lorsque le logement est inoccupé plus de soixante jours consécutifs",
    "à condition que l'installation ait été vérifiée par un professionnel qualifié",
    "dès lors que les biens étaient rangés dans un local clos et couvert",
    "sous réserve que la déclaration initiale du risque ait été exacte",
    "pour autant que les travaux aient été réalisés conformément aux règles de l'art",
    "lorsque le véhicule stationnait dans un garage fermé",
    "si les factures d'achat ou les photographies des biens peuvent être produites",
    "dans la mesure où les mesures de prévention prescrites ont été respectées",
    "quand le sinistre survient pendant la période de validité du contrat",
)
_PLACES = (
    "en France métropolitaine",
    "dans les départements et régions d'outre-mer",
    "dans l'ensemble des pays de l'Union européenne",
    "en Suisse, en Andorre et à Monaco",
    "lors d'un séjour temporaire à l'étranger de moins de quatre-vingt-dix jours",
)
_DOCUMENTS = (
    "le récépissé du dépôt de plainte",
    "les factures d'achat d'origine",
    "un devis de réparation détaillé",
    "le constat amiable signé par les deux parties",
    "un certificat médical initial",
    "le rapport de l'expert mandaté",
    "l'attestation de l'employeur",
    "un relevé d'identité bancaire",
    "les photographies des dommages",
    "l'acte de décès",
)

# Sentence templates: {good}, {event}, {person}, {delay}, {amount}, {amount2}, {percent},
# {condition}, {place}, {document}, {product}; a person is always one person (singular verbs).
_SENTENCES = (
    "Sont couverts, dans la limite de {amount} par sinistre, les dommages causés par {event} "
    "aux biens suivants : {good}.",
    "La franchise applicable en cas de dommages causés par {event} s'élève à {amount}, "
    "sauf disposition contraire des conditions particulières.",
    "{Person} déclare le sinistre dans un délai de {delay} à compter du jour où il en a eu "
    "connaissance.",
    "Passé ce délai, la mutuelle peut opposer la déchéance de garantie si le retard lui a "
    "causé un préjudice.",
    "L'indemnité est versée dans un délai de {delay} suivant l'accord sur le montant des "
    "dommages ou la décision judiciaire devenue définitive.",
    "Les dommages causés par {event} sont couverts {condition}.",
    "Ne sont jamais garantis les dommages résultant d'un défaut d'entretien caractérisé dont "
    "{person} avait connaissance.",
    "La garantie s'exerce {place}, pour les biens situés à l'adresse indiquée aux conditions "
    "particulières.",
    "Pour {good}, l'indemnisation est calculée en valeur à neuf, déduction faite d'une "
    "vétusté de {percent} par année d'ancienneté.",
    "Le plafond de remboursement est porté à {amount} lorsque le contrat {product} comporte "
    "l'option renforcée.",
    "{Person} transmet à la mutuelle {document} ainsi que tout justificatif utile à "
    "l'évaluation des dommages.",
    "À défaut de pouvoir produire {document}, l'indemnité est limitée à {percent} de la "
    "valeur déclarée.",
    "La cotisation annuelle est payable d'avance ; elle peut être fractionnée en douze "
    "prélèvements mensuels sans frais supplémentaires.",
    "À défaut de paiement dans un délai de {delay} suivant l'échéance, la garantie est "
    "suspendue puis le contrat peut être résilié.",
    "Le contrat est conclu pour une durée d'un an et se renouvelle ensuite par tacite "
    "reconduction à chaque échéance principale.",
    "{Person} peut résilier le contrat à tout moment après la première année, sans frais ni "
    "pénalités, par lettre ou par courrier électronique.",
    "Toute réticence ou fausse déclaration intentionnelle entraîne la nullité du contrat et "
    "la mutuelle conserve les cotisations échues.",
    "Lorsque plusieurs assurances couvrent le même risque, {person} peut s'adresser à "
    "l'assureur de son choix dans la limite de ses garanties.",
    "Un expert peut être désigné par la mutuelle pour constater les causes et l'étendue des "
    "dommages, contradictoirement avec {person}.",
    "Si le désaccord persiste, chaque partie choisit son expert ; les deux experts en "
    "désignent un troisième qui tranche à la majorité.",
    "Les frais de relogement temporaire sont pris en charge pendant {delay} au plus, dans la "
    "limite de {amount} au total.",
    "La mutuelle rembourse également les frais de démolition et de déblaiement rendus "
    "nécessaires par {event}, à hauteur de {amount2}.",
    "Les objets de valeur ne sont couverts contre le vol que {condition}.",
    "La garantie responsabilité civile couvre les dommages corporels et matériels que "
    "{person} cause involontairement à autrui.",
    "Les dommages causés par {event} sont indemnisés après application d'une franchise de "
    "{amount} ; pour {good}, un plafond particulier s'applique.",
    "Toute modification du risque en cours de contrat doit être déclarée dans un délai de "
    "{delay}, par lettre recommandée ou par l'espace adhérent.",
    "La mutuelle dispose alors de {delay} pour proposer un nouveau montant de cotisation ou "
    "résilier le contrat.",
    "Les réclamations sont adressées au service relations adhérents, qui accuse réception "
    "sous dix jours et répond dans un délai de deux mois.",
    "En cas de désaccord persistant, {person} peut saisir gratuitement le médiateur de "
    "l'assurance, sans renoncer à une action en justice.",
    "Les garanties d'assistance sont accessibles jour et nuit au numéro figurant sur la "
    "carte remise lors de l'adhésion.",
    "Le remboursement des soins intervient en complément de celui de l'assurance maladie "
    "obligatoire, à hauteur de {percent} de la base de remboursement.",
    "Les dépassements d'honoraires sont pris en charge jusqu'à {percent} de la base lorsque "
    "le praticien adhère au dispositif de pratique tarifaire maîtrisée.",
    "Le capital décès est versé au bénéficiaire désigné dans un délai de {delay} après "
    "réception des pièces justificatives, dont {document}.",
    "L'incapacité temporaire de travail ouvre droit à une indemnité journalière après une "
    "franchise de {delay} d'arrêt continu.",
    "Le véhicule de remplacement est mis à disposition pendant la durée des réparations, "
    "dans la limite de {delay}.",
    "Le bonus-malus est appliqué conformément à la clause de réduction-majoration prévue "
    "par le Code des assurances.",
    "Le contrat {product} prévoit une garantie des appareils nomades à hauteur de {amount}, "
    "sans franchise pour le premier sinistre de l'année.",
    "Les actions dérivant du contrat sont prescrites par deux ans à compter de l'événement "
    "qui y donne naissance.",
    "La subrogation permet à la mutuelle d'exercer, à concurrence de l'indemnité versée, "
    "les droits dont dispose {person} contre le responsable.",
    "Les données personnelles sont traitées pour la gestion du contrat et conservées pendant "
    "la durée légale de prescription.",
)

_ARTICLE_TITLES = (
    "Objet de la garantie",
    "Biens assurés",
    "Événements garantis",
    "Exclusions communes",
    "Franchises applicables",
    "Déclaration du sinistre",
    "Évaluation des dommages",
    "Règlement de l'indemnité",
    "Subrogation",
    "Prescription",
    "Résiliation du contrat",
    "Cotisation et révision tarifaire",
    "Territorialité",
    "Assistance au domicile",
    "Protection juridique",
    "Responsabilité civile vie privée",
    "Frais annexes",
    "Mesures de prévention",
    "Vie du contrat",
    "Réclamations et médiation",
)
_CHAPTER_TITLES = (
    "Les garanties de vos biens",
    "Votre responsabilité",
    "En cas de sinistre",
    "La vie de votre contrat",
    "Les prestations d'assistance",
    "Vos remboursements de soins",
    "La protection de vos proches",
    "Dispositions générales",
)
_ANNEX_TITLES = (
    "Tableau des plafonds de garantie",
    "Barème de vétusté",
    "Pièces justificatives à fournir",
    "Délais de traitement",
    "Glossaire des termes techniques",
    "Coordonnées utiles",
)
_FOOTNOTES = (
    "Au sens de l'article L. {law} du Code des assurances.",
    "Le montant est révisé chaque année selon l'indice de la construction publié au mois "
    "de janvier.",
    "Voir l'annexe {annex} pour la liste complète des pièces à fournir.",
    "Sauf pour les contrats souscrits avant le 1er janvier 2024, régis par leurs conditions "
    "d'origine.",
    "Cette durée est portée à {delay} pour les résidences secondaires.",
    "Hors taxes et frais de gestion, qui figurent sur l'avis d'échéance.",
    "La date retenue est celle du cachet de la poste ou de l'accusé de réception électronique.",
    "Montant applicable par sinistre et par année d'assurance.",
    "Les jours fériés ne sont pas comptés dans ce délai.",
    "Selon la définition donnée au glossaire de l'annexe {annex}.",
)
_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X")


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


class FrenchText:
    """Sentences, headings, tables and footnotes of one document, from one seed."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible text, not security
        self._last: list[int] = []

    def _pick(self, options: Sequence[str]) -> str:
        return options[self.rng.randrange(len(options))]

    def sentence(self) -> str:
        while True:
            index = self.rng.randrange(len(_SENTENCES))
            if index not in self._last:
                break
        self._last = [*self._last[-6:], index]
        person = self._pick(_PEOPLE)
        return _SENTENCES[index].format(
            good=self._pick(_GOODS),
            event=self._pick(_EVENTS),
            person=person,
            Person=_capitalised(person),
            delay=self._pick(_DELAYS),
            amount=self._pick(_AMOUNTS),
            amount2=self._pick(_AMOUNTS),
            percent=self._pick(_PERCENTS),
            condition=self._pick(_CONDITIONS),
            place=self._pick(_PLACES),
            document=self._pick(_DOCUMENTS),
            product=self._pick(PRODUCTS),
        )

    def paragraph(self, sentences: tuple[int, int] = (2, 5)) -> str:
        return " ".join(self.sentence() for _ in range(self.rng.randint(*sentences)))

    def article_heading(self, chapter: int, article: int) -> str:
        return f"Article {chapter}.{article} — {self._pick(_ARTICLE_TITLES)}"

    def chapter_title(self, chapter: int) -> str:
        return f"Chapitre {_ROMAN[(chapter - 1) % len(_ROMAN)]} — {self._pick(_CHAPTER_TITLES)}"

    def annex_heading(self, annex: int) -> str:
        return f"Annexe {annex} — {_ANNEX_TITLES[(annex - 1) % len(_ANNEX_TITLES)]}"

    def footnote(self) -> str:
        law = f"{self.rng.randint(111, 132)}-{self.rng.randint(1, 9)}"
        return self._pick(_FOOTNOTES).format(
            law=law, annex=self.rng.randint(1, 4), delay=self._pick(_DELAYS)
        )

    def table(self, columns: int, rows: int) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
        """A header and its rows; 2 to 4 columns, some cells long enough to wrap."""
        kind = self.rng.randrange(3)
        if kind == 0:
            header: tuple[str, ...] = ("Garantie", "Plafond", "Franchise", "Option renforcée")
            body = [
                (
                    _capitalised(self._pick(_EVENTS)),
                    self._pick(_AMOUNTS),
                    self._pick(_AMOUNTS),
                    self._pick(("incluse", "non disponible", "en supplément")),
                )
                for _ in range(rows)
            ]
        elif kind == 1:
            header = ("Catégorie de biens", "Vétusté annuelle", "Plafond de vétusté", "Remarque")
            body = [
                (
                    _capitalised(self._pick(_GOODS)),
                    self._pick(_PERCENTS),
                    self._pick(_PERCENTS),
                    self._pick(("sur justificatif", "hors usage professionnel", "—")),
                )
                for _ in range(rows)
            ]
        else:
            header = ("Démarche", "Délai", "Pièces à fournir", "Interlocuteur")
            body = [
                (
                    _capitalised(self._pick(_EVENTS)),
                    self._pick(_DELAYS),
                    _capitalised(self._pick(_DOCUMENTS)),
                    self._pick(("service sinistres", "plateforme d'assistance", "votre agence")),
                )
                for _ in range(rows)
            ]
        return header[:columns], [row[:columns] for row in body]
