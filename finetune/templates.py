"""Question templates by section type: (question, answer) pairs from a passage, without an LLM.

Each sentence (or list item) of a passage is matched against general French patterns of
insurance documents — a definition ("Franchise : la somme qui…"), an exclusion ("ne sont pas
garantis"), a waiting period ("délai de carence"), a deadline ("dans les 5 jours"), an amount
("jusqu'à 1 500 €"), a percentage, a duration, an eligibility condition ("âgé de 18 ans au
moins"), a procedure ("par lettre recommandée"), a coverage ("nous prenons en charge") — and the
section heading gives the topic ("Article 3.4 — Bris de glace" → « Bris de glace »). A heading
that is itself a question (FAQ, the standard headings of an IPID) is the question of the first
passage of its section. The answer is always text of the passage: the clause holding the
figure, the definition, or the sentence.

Questions name the product ("Pour Vergemont Auto, …"): the same question about two products has
two different answers, and a retriever trained on an ambiguous question learns noise. Phrasings
vary by a hash of the passage and the sentence, so the same pattern does not always give the
same opening; a run is deterministic.
"""

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.chunking import split_sentences as split_paragraph
from knowledge.interfaces import Chunk
from knowledge.text import content_stems

KINDS = (
    "faq",
    "section",
    "definition",
    "obligation",
    "possibility",
    "exclusion",
    "waiting_period",
    "deadline",
    "amount",
    "percentage",
    "duration",
    "eligibility",
    "procedure",
    "coverage",
    "condition",
    "statement",
)

MAX_ANSWER_CHARS = 350
MIN_CLAUSE_CHARS = 30


@dataclass(frozen=True)
class Proposal:
    """One templated pair: the answer is text of the passage (`evidence` is its sentence)."""

    kind: str
    template: str  # "<kind>/<frame number>"
    question: str
    answer: str
    evidence: str


# ---------------------------------------------------------------- text units


_BULLET = re.compile(r"\s*[•▪◦●]\s*")


def units(text: str) -> list[str]:
    """The sentences and list items of a passage, in order (bullets split, markers removed)."""
    found: list[str] = []
    for line in text.splitlines():
        for item in _BULLET.split(line):
            item = item.strip(" -–")
            if item:
                found.extend(s.strip() for s in split_paragraph(item) if s.strip())
    return found


def _folded(text: str) -> str:
    """Lower case, no accents, single spaces: two answers that differ only so are the same."""
    decomposed = unicodedata.normalize("NFD", " ".join(text.lower().split()).rstrip(" ."))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _clean(text: str) -> str:
    return " ".join(text.split())


def _capitalised(text: str) -> str:
    text = _clean(text).strip(" ;,")
    return text[:1].upper() + text[1:] if text else text


def _lower_first(text: str) -> str:
    """Lower-cases the first letter unless the first word is an acronym ("PER", "VRADE")."""
    first = text.split(" ", 1)[0]
    if len(first) > 1 and first[:2].isalpha() and first[:2].isupper():
        return text
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------- titles and headings

_CONNECTORS = {"de", "du", "des", "la", "le", "les", "l'", "d'", "et", "à", "au", "aux", "en"}


def product_name(title: str) -> str:
    """The product in a document title: its last run of capitalised words (and the connectors
    between them), after the lower-case words that name the kind of document.

    "Conditions générales Vergemont Accidents de la Vie" → "Vergemont Accidents de la Vie".
    """
    words = _clean(title).split(" ")
    start = len(words)
    for index in range(len(words) - 1, -1, -1):
        word = words[index]
        if word[:1].isupper():
            start = index
        elif word.lower() not in _CONNECTORS:
            break
    while start < len(words) and words[start].lower() in _CONNECTORS:
        start += 1
    return " ".join(words[start:])


def product_names(chunks: Sequence[Chunk]) -> dict[str, str]:
    """Product code → product name, from the titles of the documents that have one."""
    counts: dict[str, dict[str, int]] = {}
    for chunk in chunks:
        title = chunk.metadata.get("title", "")
        if chunk.product_code and title:
            name = product_name(title)
            if name:
                votes = counts.setdefault(chunk.product_code, {})
                votes[name] = votes.get(name, 0) + 1
    return {code: max(votes, key=lambda n: (votes[n], n)) for code, votes in counts.items()}


_NUMBERING = re.compile(
    r"^(?:chapitre|article|section|titre|partie|annexe)\s+[\dIVXL]+(?:\.\d+)*$", re.IGNORECASE
)
# Words that name a part of a document, not a subject a customer asks about.
_NOT_TOPICS = {
    "préambule",
    "sommaire",
    "introduction",
    "généralités",
    "dispositions générales",
    "dispositions communes",
    "dispositions diverses",
    "objectifs",
    "principe",
    "exemples",
    "garantie optionnelle",
    "en cours de contrat",
    "définitions",
    "définition",
    "exclusions",
    "exclusion",
    "exclusions générales",
}


# Headings and terms that introduce an illustration, not a subject.
_NOT_TOPIC_STARTS = {
    "exclusion",
    "exclusions",
    "exemple",
    "exemples",
    "illustration",
    "remarque",
    "nota",
    "attention",
    "ce",
    "ceux",
    "celle",
    "qui",
    "que",
}


@dataclass(frozen=True)
class Heading:
    question: str | None  # a heading that asks a question (FAQ, IPID)
    topic: str | None  # the subject of the section, as written
    section: str = ""  # the whole title

    @property
    def is_glossary(self) -> bool:
        return "définition" in self.section.lower()


def parse_heading(section: str) -> Heading:
    """The question and the topic of a section title such as
    "Chapitre 3 — Les garanties — Article 3.4 — Bris de glace"."""
    segments: list[str] = []
    for raw in section.split(" — "):
        part = raw.strip()
        if not part:
            continue
        if segments and part[:1].islower():  # a title wrapped over two lines
            segments[-1] = f"{segments[-1]} {part}"
        else:
            segments.append(part)
    if len(segments) >= 3 and all(len(s.split()) <= 2 for s in segments):
        return Heading(None, None, section)  # the header row of a table
    question = next((s for s in reversed(segments) if s.endswith("?")), None)
    kept = [
        s for s in segments if not _NUMBERING.match(s) and not s.isupper() and not s.endswith("?")
    ]
    topic = _clean(re.sub(r"\([^)]*\)", "", kept[-1])).rstrip(" :") if kept else None
    if topic is not None and not _is_topic(topic):
        topic = None
    return Heading(question, topic, section)


def _is_topic(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    words = text.split()
    return (
        2 <= len(text) <= 70
        and len(words) <= 9
        and letters >= 4
        and not text[:1].isdigit()
        and digits <= letters / 10
        and "€" not in text
        and text.lower() not in _NOT_TOPICS
        and _first_word(text) not in _NOT_TOPIC_STARTS
    )


# ---------------------------------------------------------------- patterns

_FIGURE = r"\d[\d\u00a0\u202f ]*(?:[,.]\d+)?"
_NUMBER_WORD = (
    r"(?:un|une|deux|trois|quatre|cinq|six|sept|huit|neuf|dix|onze|douze|quinze|vingt|trente"
    r"|quarante|soixante|cent)"
)
_TIME_UNIT = r"(?:jours?|mois|ans?|années?|semaines?|heures?|h)\b"
_TIME = rf"(?:{_FIGURE}|{_NUMBER_WORD})\s*(?:jours?\s+)?(?:ouvrés\s+|calendaires\s+)?{_TIME_UNIT}"
EURO = re.compile(rf"{_FIGURE}\s?(?:€|euros?\b)", re.IGNORECASE)
PERCENT = re.compile(rf"{_FIGURE}\s?%")
TIME = re.compile(_TIME, re.IGNORECASE)

_EXCLUSION = re.compile(
    r"\b(?:ne|n['’])\s*(?:\w+\s+)?(?:sont|est|seront|sera|restent|reste)\s+(?:pas|jamais)\s+"
    r"(?:garanti|couvert|assuré|pris|remboursé|indemnisé)"
    r"|\b(?:sont|est|restent|reste|demeurent|demeure)\s+exclue?s?\b"
    r"|\bà l['’]exclusion\b"
    r"|\bne\s+(?:couvre|couvrent|garantit|garantissent|rembourse|remboursent)\s+(?:pas|jamais)\b"
    r"|\bne\s+(?:prend|prenons|prennent)\s+pas\s+en\s+charge"
    r"|\baucune\s+(?:garantie|prise en charge|indemnité|indemnisation)\b",
    re.IGNORECASE,
)
_EXCLUSION_HEADING = re.compile(
    r"exclu|n['’]est pas (?:assuré|garanti|couvert)|ne garantit pas|pas garanti", re.IGNORECASE
)
_WAITING = re.compile(
    r"\bd[ée]lais?\s+(?:de\s+carence|d['’]attente)\b|\bp[ée]riodes?\s+(?:de\s+carence|d['’]attente)\b"
    r"|\bcarence\b",
    re.IGNORECASE,
)
_DEADLINE = re.compile(
    rf"\b(?:dans\s+les|dans\s+un\s+délai\s+(?:maximal\s+)?de|sous|au\s+plus\s+tard|dans|d['’]ici|"
    rf"avec\s+un\s+préavis\s+de|préavis\s+de|moins\s+de|au-delà\s+de|passé\s+un\s+délai\s+de)"
    rf"\s+(?:les\s+)?{_TIME}"
    rf"|{_TIME}\s+(?:au\s+plus\s+tard|avant|après|suivant|à\s+compter)",
    re.IGNORECASE,
)
_DURATION = re.compile(
    rf"\b(?:pendant|durant|pour\s+une\s+durée\s+de|d['’]une\s+durée\s+de|durée\s+(?:de|d['’]un|d['’]une|est\s+de)"
    rf"|est\s+conclue?\s+pour|pour)\s+(?:au\s+moins\s+|au\s+plus\s+|une\s+période\s+de\s+)?{_TIME}"
    r"|\bdurée\b|\btacitement\b|\btacite\s+reconduction\b",
    re.IGNORECASE,
)
_AGE = re.compile(r"\bâg[ée]e?s?\b|\bâge\b|\bans\s+révolus\b|\banniversaire\b", re.IGNORECASE)
_ELIGIBILITY = re.compile(
    r"\bpeu(?:t|vent)\s+(?:souscrire|adhérer|être\s+assurée?s?)\b|\bconditions?\s+(?:de\s+souscription"
    r"|d['’]adhésion|d['’]accès)\b|\bsont\s+assurables\b|\best\s+ouvert\s+aux?\b|\bréservée?\s+aux?\b"
    r"|\bêtre\s+(?:affiliée?|résidente?|domiciliée?|titulaire)\b"
    r"|\bpour\s+(?:souscrire|adhérer)\b",
    re.IGNORECASE,
)
_ELIGIBILITY_HEADING = re.compile(
    r"souscri|adhésion|adhérer|assurables|qui peut|conditions d['’]accès", re.IGNORECASE
)
_JOINING = re.compile(r"souscri|adhé|assurabl|admise?s?\b|acceptée?s?\b|entrée", re.IGNORECASE)
_PROCEDURE = re.compile(
    r"\bpar\s+(?:lettre|courrier|envoi\s+recommandé|téléphone|courriel|e-mail)\b"
    r"|\b(?:depuis|dans|sur)\s+(?:votre|l['’])\s*espace\s+client\b"
    r"|\b(?:envoyez|adressez|contactez|appelez|déclarez|transmettez|joignez|connectez-vous)\b"
    r"|\b(?:vous|il vous)\s+(?:devez|suffit\s+de|faut)\b"
    r"|\bpièces?\s+(?:à\s+fournir|justificatives?)\b|\bjustificatifs?\b",
    re.IGNORECASE,
)
_PROCEDURE_HEADING = re.compile(
    r"déclar|démarche|résili|renonciation|réclamation|modalités|paiement|versement|rachat|"
    r"arbitrage|transfert|règlement|que faire|comment|pièces|formalités",
    re.IGNORECASE,
)
_COVERAGE = re.compile(
    r"\bnous\s+(?:garantissons|prenons\s+en\s+charge|remboursons|indemnisons|versons|couvrons|"
    r"organisons)\b|\b(?:sont|est)\s+(?:également\s+)?(?:garantie?s?|couverte?s?|prise?s?\s+en\s+charge"
    r"|remboursée?s?|indemnisée?s?)\b|\b(?:couvre|couvrent|comprend|comprennent|prend\s+en\s+charge)\b",
    re.IGNORECASE,
)
_LIMIT = re.compile(
    r"\b(?:dans\s+la\s+limite\s+d[eu]|jusqu['’]à|plafonnée?s?\s+à|limitée?s?\s+à|au\s+maximum|"
    r"maximum\s+de|plafond|au\s+plus)\b",
    re.IGNORECASE,
)
_PRICE = re.compile(
    r"\b(?:cotisation|coûte|coût|tarif|prix|prime|par\s+mois|par\s+an|mensuel)", re.IGNORECASE
)
_FRANCHISE = re.compile(r"\bfranchise", re.IGNORECASE)
_REFUND = re.compile(r"\brembours", re.IGNORECASE)

# "la franchise est de 90 €", "le plafond s'élève à 5 000 €": the subject asked about.
_SUBJECT_AMOUNT = re.compile(
    r"(?P<np>\b(?:la|le|les|l['’])\s?[^\W\d][^,;:()]{1,55}?)\s+"
    r"(?:est|sont|s['’]élève(?:nt)?|va|vont|varie(?:nt)?|atteint|représente)\s+"
    r"(?:de|d['’]|fixée?s?\s+à|limitée?s?\s+à|plafonnée?s?\s+à|portée?s?\s+à|égale?s?\s+à|à|"
    r"compris\s+entre|comprise\s+entre|entre)\s*"
    rf"(?:\w+\s)?(?={_FIGURE})",
    re.IGNORECASE,
)
# "vous devez nous déclarer le sinistre dans les 5 jours": what must be done.
_MUST_DO = re.compile(
    r"\b(?:vous\s+devez|vous\s+devrez|il\s+faut|vous\s+avez\s+(?:jusqu['’]à\s+\S+\s+)?pour|"
    r"vous\s+disposez\s+de\s+\S+\s+\S+\s+pour)\s+(?:nous\s+|lui\s+|leur\s+)?"
    r"(?P<vp>[a-zéèêàâîôûç]+(?:er|ir|re)\b[^,;:.()]{3,70}?)\s+"
    r"(?=dans|sous|au\s+plus\s+tard|avant|à\s+compter|dès)",
    re.IGNORECASE,
)
_DEFINITION = re.compile(r"^(?P<term>[^\W\d_][^:;.!?]{0,60}?)\s?:\s+(?P<body>\S.*)$")
_DETERMINERS = {
    "le",
    "la",
    "les",
    "l",
    "un",
    "une",
    "des",
    "tout",
    "toute",
    "tous",
    "toutes",
    "ce",
    "cette",
    "ces",
    "celui",
    "celle",
    "ceux",
    "chaque",
    "ensemble",
    "sa",
    "son",
    "ses",
    "votre",
    "vos",
    "personne",
    "période",
    "somme",
    "montant",
}
_DEFINES = re.compile(
    r"^(?:on\s+entend\s+par\s+(?P<term1>[^,]{2,50}),?\s+(?P<body1>.+)|"
    r"(?P<term2>(?:le|la|les|l['’])\s?[^,;:]{2,50}?)\s+(?:désigne|désignent|s['’]entend|correspond\s+à)"
    r"\s+(?P<body2>.+))$",
    re.IGNORECASE,
)
# In a definitions section whose bold terms lost their colon: "Rente viagère Une somme versée…"
_GLOSSARY_ENTRY = re.compile(
    r"^(?P<term>[A-ZÀ-Ý][\w'’()-]*(?:\s[\w'’()-]+){0,5}?)\s(?P<body>(?:Le|La|Les|L['’]|Un|Une|Des|"
    r"Toute?s?|Tous|Ensemble|Somme|Période|Personne)\b.+)$"
)
_PREPOSITIONS = {
    "à",
    "en",
    "au",
    "aux",
    "pour",
    "par",
    "dès",
    "avant",
    "après",
    "lors",
    "pendant",
    "sur",
}


# A flattened table row: a figure followed by a capitalised word with no punctuation between
# ("15 % Avec l'option", "1,80 Exemple"), or the yes/no cells of a comparison table.
_TABLE_CELL = re.compile(r"(?:\d|%|€)\s+[A-ZÀ-Ý][a-zà-ÿ]")
_YES_NO_CELLS = re.compile(r"\b(?:Oui|Non)\s+(?:Oui|Non)\b")
_ANY_FIGURE = re.compile(r"\d+(?:[,.]\d+)?")


def looks_like_table(sentence: str) -> bool:
    """True for the text of a table cut into a sentence: cells run together without verbs."""
    if _YES_NO_CELLS.search(sentence) or sentence.count(" : ") >= 3:
        return True  # yes/no cells, or the "label : value" cells of a row run together
    cells = {match.group(0)[-3:] for match in _TABLE_CELL.finditer(sentence)}
    figures = len(_ANY_FIGURE.findall(sentence))
    words = len(sentence.split())
    if len(cells) >= 2 or (cells and figures >= 3):
        return True
    return figures >= 4 and figures / max(1, words) > 0.25


# "Vous pouvez résilier le contrat à tout moment" → "puis-je résilier le contrat à tout moment ?"
_POSSIBILITY = re.compile(
    r"^(?:vous\s+pouvez|l['’]assuré\s+peut|le\s+souscripteur\s+peut|l['’]adhérent\s+peut|"
    r"vous\s+avez\s+la\s+possibilité\s+de)\s+(?P<vp>[a-zéèêàâîôûç]+(?:er|ir|re)\b[^,;:.()]{3,80}?)"
    r"\s*(?:[,;:.(]|$)",
    re.IGNORECASE,
)
# The subject of a statement: a noun phrase with its determiner, up to the verb.
_DETERMINER = re.compile(
    r"^(?:le|la|les|l['’]|un|une|des|tout|toute|tous|toutes|chaque|votre|vos)\s?", re.IGNORECASE
)
# Words after which a noun phrase at the start of a sentence has ended: verbs, most
# prepositions, relatives.
_VERB_WORDS = """
    est sont a ont peut peuvent doit doivent reste restent sera seront serait seraient était
    ne n' s' se y prend prennent couvre couvrent comprend comprennent intervient interviennent
    varie varient dépend dépendent donne donnent ouvre ouvrent permet permettent court courent
    débute débutent commence commencent cesse cessent expire expirent bénéficie bénéficient
    porte portent vaut valent suit suivent inclut incluent exclut excluent garantit garantissent
    rembourse remboursent indemnise indemnisent verse versent remplace remplacent offre offrent
    dure durent devient deviennent passe passent évolue évoluent augmente augmentent diminue
    diminuent correspond correspondent concerne concernent vise visent dépasse dépassent
    atteint atteignent représente représentent figure figurent existe existent relève relèvent
    constitue constituent obéit prévoit prévoient fixe fixent limite limitent
"""
_LINK_WORDS = """
    qui que qu' dont où pour en sur par dans avec sans selon entre chez lors après avant
    pendant depuis jusqu' au aux ou et mais
"""
_VERBS = frozenset(_VERB_WORDS.split())
_NP_END = _VERBS | frozenset(_LINK_WORDS.split())


def has_verb(sentence: str) -> bool:
    """A verb among the common ones of the documents (a bare list item has none)."""
    words = [w.strip(",;:.()«»").lower() for w in sentence.split()]
    return any(w in _VERBS or re.match(r"^(?:n|s)['’]\w", w) for w in words)


def statement_subject(sentence: str) -> str | None:
    """The noun phrase a sentence starts with ("Le forfait journalier hospitalier est…" →
    "Le forfait journalier hospitalier"): a determiner, then at most seven words up to a verb,
    a preposition or a comma; None when the sentence does not start so."""
    if _DETERMINER.match(sentence) is None:
        return None
    words: list[str] = []
    for raw in sentence.split():
        word = raw.lower()
        bare = word.strip(",;:.()«»")
        elided = re.match(r"^(n|s|qu|jusqu)['’]", word)
        if words and (bare in _NP_END or elided is not None):
            break
        words.append(raw)
        if raw.endswith((",", ";", ":", ".")):
            words[-1] = raw.rstrip(",;:.")
            break
        if len(words) > 8:
            return None
    np = " ".join(words)
    return np if len(words) >= 2 and np.strip() else None


# "Vous devez déclarer tout changement d'usage" → "dois-je déclarer tout changement d'usage ?"
_MUST = re.compile(
    r"^(?:vous\s+devez|l['’]assuré\s+doit|le\s+souscripteur\s+doit|l['’]adhérent\s+doit)\s+"
    r"(?:nous\s+)?(?P<vp>[a-zéèêàâîôûç]+(?:er|ir|re)\b[^,;:.()]{3,80}?)\s*(?:[,;:.(]|$)",
    re.IGNORECASE,
)
# "En cas de vol, …", "Lorsque l'animal décède, …": what happens then.
_CONDITION = re.compile(
    r"^(?P<cond>(?:en\s+cas\s+d[e'’]|lors\s+d[e'’]|lorsque?|lorsqu['’]|si|quand|après|"
    r"à\s+la\s+suite\s+d[e'’]|au-delà\s+d[e'’]|en\s+l['’]absence\s+d[e'’]|à\s+défaut\s+d[e'’])"
    r"\s?[^,;:]{3,90}?),\s+\S",
    re.IGNORECASE,
)
_VAGUE_SUBJECTS = re.compile(
    r"^(?:ce|cette|ces|celui|celle|une\s+fois|tout\s+de\s+même)\b|\b(?:ci|là)$|"
    r"\b(?:ci-dessous|ci-dessus|suivante?s?|précédente?s?)\b|^(?:le|la|les|l['’])\s?(?:contrat|garantie|"
    r"présent|présente|présents|présentes|montant|somme|délai|cas)$",
    re.IGNORECASE,
)


def _usable_subject(noun_phrase: str) -> bool:
    """A noun phrase that names something on its own (not "ce cas", not cut in a clause)."""
    text = _clean(noun_phrase)
    return not _VAGUE_SUBJECTS.search(text) and not re.search(
        r"\b(?:si|lorsque|quand|qui|que|qu['’]|dont|où|et|ou)\b", text, re.IGNORECASE
    )


# Sentences that cannot answer alone: a pronoun standing for an earlier sentence, a form to
# fill in, an introduction to a list.
_DEPENDENT = re.compile(
    r"^(?:il|elle|ils|elles|celui-ci|celle-ci|ceux-ci|celles-ci|cela|ceci|ce\s+dernier|"
    r"cette\s+dernière|en\s+revanche|toutefois|de\s+même)\b",
    re.IGNORECASE,
)


def standalone(sentence: str) -> bool:
    """True when a sentence can be an answer without the sentences around it."""
    return not (
        _DEPENDENT.match(sentence)
        or sentence.rstrip().endswith(":")
        or re.search(r"\[[^\]]*\]", sentence)
        or looks_like_table(sentence)
    )


# What a sentence says is (not) covered: its subject ("Les dommages causés par … ne sont pas
# garantis") or the object of the insurer's verb ("Nous prenons en charge la réparation du
# pare-brise"). A bare list item ("Les amendes.") is not asked so: it does not say yes or no.
_COVERED_SUBJECT = re.compile(
    r"^(?P<np>(?:le|la|les|l['’]|un|une|des|tout|toute|tous|toutes)\s?[^\W\d][^,;:()]{2,110}?)\s+"
    r"(?:(?:ne|n['’])\s*(?:\w+\s+)?(?:sont|est|restent|reste)\s+(?:pas|jamais)\s+"
    r"|(?:sont|est|restent|reste|demeurent|demeure)\s+(?:également\s+)?)"
    r"(?:garantie?s?|couverte?s?|prise?s?\s+en\s+charge|remboursée?s?|indemnisée?s?|exclue?s?)\b",
    re.IGNORECASE,
)
_COVERED_OBJECT = re.compile(
    r"\bnous\s+(?:garantissons|prenons\s+en\s+charge|remboursons|indemnisons|couvrons)\s+"
    r"(?P<np>(?:le|la|les|l['’]|un|une|des)\s?[^\W\d][^,;:()]{2,110}?)\s*(?:[,;:.(]|$)",
    re.IGNORECASE,
)


def _covered_thing(sentence: str) -> str | None:
    """The thing a coverage or exclusion sentence is about, as a noun phrase (≤ 16 words,
    without "vous": a question asks it in the customer's words)."""
    found = None
    for pattern in (_COVERED_SUBJECT, _COVERED_OBJECT):
        match = pattern.search(sentence)
        if match is not None:
            found = match["np"]
            break
    if found is None:
        return None
    np = _clean(found).rstrip(" .")
    if len(np.split()) > 20 or re.search(r"\b(?:vous|votre|vos|nous|notre|nos)\b", np, re.I):
        return None
    return _lower_first(np)


_COVERED_TITLE = re.compile(
    r"qu['’]est-ce qui est assuré|ce qui est garanti|ce que garantit|garanties\s+"
    r"(?:systématiquement\s+)?prévues|événements garantis",
    re.IGNORECASE,
)
_BARE_ITEM = re.compile(r"^(?:les|le|la|l['’])\s?[^\W\d][^;:()]{2,160}$", re.IGNORECASE)


_OBLIGATIONS_TITLE = re.compile(r"\bobligations?\b", re.IGNORECASE)


def _listed_duty(sentence: str, heading: Heading) -> str | None:
    """An item of a list titled "Quelles sont mes obligations ?" that opens on an infinitive
    ("Accepter le contrôle du médecin de l'assureur."), as the verb phrase; None otherwise."""
    item = _clean(sentence).rstrip(" .;")
    if not _OBLIGATIONS_TITLE.search(heading.section) or ":" in item:
        return None
    words = item.split()
    if not words or not _is_infinitive(words[0].lower()) or len(words) > 20:
        return None
    if re.search(r"\b(?:vous|votre|vos|nous|notre|nos)\b", item, re.IGNORECASE):
        return None
    return _lower_first(item)


def _listed_thing(sentence: str, heading: Heading) -> tuple[str, str] | None:
    """A bare noun-phrase item of a list whose title says it is excluded ("Non") or covered
    ("Oui"), as (noun phrase, verdict); None for anything else."""
    item = _clean(sentence).rstrip(" .;")
    if not _BARE_ITEM.match(item) or has_verb(item) or len(item.split()) > 20:
        return None
    if re.search(r"\b(?:vous|votre|vos|nous|notre|nos)\b", item, re.IGNORECASE):
        return None
    title = heading.section
    if _EXCLUSION_HEADING.search(title):
        return _lower_first(item), "Non"
    if _COVERED_TITLE.search(title):
        return _lower_first(item), "Oui"
    return None


def _figures(text: str) -> bool:
    return bool(EURO.search(text) or PERCENT.search(text) or TIME.search(text))


def _first_word(text: str) -> str:
    return re.split(r"[\s'’]", text.strip(), maxsplit=1)[0].lower()


def _is_infinitive(word: str) -> bool:
    return len(word) > 3 and word.endswith(("er", "ir", "re")) and word.islower()


def _label_value(sentence: str) -> tuple[str, str] | None:
    """("Franchise vol", "300 €, portée à …") when a sentence is "label : value"."""
    match = _DEFINITION.match(sentence)
    if match is None:
        return None
    term, body = _clean(match["term"]), _clean(match["body"])
    if len(term.split()) > 7 or term.lower().endswith((" de", " du", " des", " la", " le")):
        return None
    return term, body


def is_term(text: str) -> bool:
    """A term a glossary defines ("Franchise", "Valeur à neuf"), not a clause that happens to
    stand before a colon ("Le contrat est solidaire", "Par exemple", "Assurez votre véhicule")."""
    words = text.split()
    return (
        0 < len(words) <= 7
        and text[:1].isupper()
        and _DETERMINER.match(text) is None
        and _first_word(text) not in _PREPOSITIONS | _NOT_TOPIC_STARTS | _VERBS
        and not has_verb(text)
        and not re.search(r"\b(?:vous|votre|vos)\b", text, re.IGNORECASE)
    )


def detect_kinds(sentence: str, heading: Heading | None = None) -> list[str]:
    """Every kind of question a sentence can answer, most specific first (FAQ excluded: it is a
    property of a passage, not of a sentence)."""
    heading = heading or Heading(None, None)
    kinds: list[str] = []
    title = heading.section or heading.topic or ""  # the whole title: "Exclusions" is no topic
    pair = _label_value(sentence)
    if pair is not None:
        term, body = pair
        word = _first_word(body)
        if (
            (heading.is_glossary or word in _DETERMINERS)
            and not _figures(body)
            and body[:1].islower()
            and is_term(term)
        ):
            kinds.append("definition")
        elif _is_infinitive(word):
            kinds.append("obligation")
    elif _DEFINES.match(sentence) or (
        heading.is_glossary
        and (entry := _GLOSSARY_ENTRY.match(sentence)) is not None
        and is_term(entry["term"])
    ):
        kinds.append("definition")
    if _EXCLUSION.search(sentence) or (
        _EXCLUSION_HEADING.search(title) and not _COVERAGE.search(sentence)
    ):
        kinds.append("exclusion")
    if _WAITING.search(sentence):
        kinds.append("waiting_period")
    age = bool(_AGE.search(sentence))
    if _DEADLINE.search(sentence) and not age:
        kinds.append("deadline")
    if EURO.search(sentence):
        kinds.append("amount")
    if PERCENT.search(sentence):
        kinds.append("percentage")
    if _DURATION.search(sentence) and TIME.search(sentence) and not age:
        kinds.append("duration")
    joining = _ELIGIBILITY.search(sentence) or (age and _JOINING.search(sentence))
    if joining or (_ELIGIBILITY_HEADING.search(title) and not kinds):
        kinds.append("eligibility")
    if _PROCEDURE.search(sentence) or (_PROCEDURE_HEADING.search(title) and not kinds):
        kinds.append("procedure")
    if (_COVERAGE.search(sentence) or _COVERED_TITLE.search(title)) and "exclusion" not in kinds:
        kinds.append("coverage")
    if _POSSIBILITY.match(sentence):
        kinds.append("possibility")
    if _MUST.match(sentence) or _listed_duty(sentence, heading) is not None:
        kinds.append("obligation")
    if _CONDITION.match(sentence):
        kinds.append("condition")
    subject = statement_subject(sentence)
    if subject is not None and _usable_subject(subject) and has_verb(sentence):
        kinds.append("statement")
    return list(dict.fromkeys(kinds))


# ---------------------------------------------------------------- answers


def _clause(sentence: str, match: re.Match[str] | None) -> str:
    """The clause (between semicolons) holding `match`, or the sentence when that clause is too
    short to stand alone; sentences longer than the answer bound are cut to their clause."""
    if match is None:
        return _capitalised(sentence)
    start = 0
    for part in re.split(r"(?<=;)\s+", sentence):
        end = start + len(part)
        if start <= match.start() < end + 1:
            clause = part.rstrip(" ;")
            if (
                len(clause) >= MIN_CLAUSE_CHARS
                and standalone(clause)
                and (len(sentence) > MAX_ANSWER_CHARS or clause != sentence)
            ):
                return _capitalised(clause)
            break
        start = end + 1
    return _capitalised(sentence)


# ---------------------------------------------------------------- questions


def _pick(key: str, frames: Sequence[str]) -> tuple[int, str]:
    digest = hashlib.sha256(key.encode()).digest()
    index = int.from_bytes(digest[:4], "big") % len(frames)
    return index, frames[index]


def _de(noun_phrase: str) -> str:
    """'de' before a noun phrase with its article: du, des, de la, de l'."""
    lowered = noun_phrase.lower()
    if lowered.startswith("des "):
        return noun_phrase
    if lowered.startswith("le "):
        return "du " + noun_phrase[3:]
    if lowered.startswith("les "):
        return "des " + noun_phrase[4:]
    return "de " + noun_phrase


_FRAMES: dict[str, tuple[str, ...]] = {
    "faq": ("Pour {P}, {q}", "{P} : {q}", "{Q_body}, avec {P} ?"),
    "definition": (
        "Que signifie « {term} » dans le contrat {P} ?",
        "Qu'entend-on par « {term} » pour {P} ?",
        "Pour {P}, c'est quoi « {term} » ?",
        "Comment le contrat {P} définit-il « {term} » ?",
    ),
    "obligation": (
        "Pour {P}, que dois-je faire {label} ?",
        "Quelles sont mes obligations {label} avec {P} ?",
        "{P} : qu'est-ce que je dois faire {label} ?",
    ),
    "exclusion": (
        "Qu'est-ce qui n'est pas couvert par {P} en matière de {topic_l} ?",
        "Quelles exclusions s'appliquent à « {topic} » dans le contrat {P} ?",
        "Y a-t-il des cas où {P} ne couvre pas « {topic} » ?",
    ),
    "covered_or_not": (
        "{P} couvre-t-il {np} ?",
        "Est-ce que {P} prend en charge {np} ?",
        "Suis-je couvert par {P} pour {np} ?",
        "Pour {P}, {np}, c'est couvert ?",
    ),
    "exclusion_no_topic": (
        "Qu'est-ce qui n'est pas couvert par {P} ?",
        "Quelles sont les exclusions du contrat {P} ?",
        "Pour {P}, qu'est-ce qui est exclu ?",
    ),
    "waiting_period": (
        "Y a-t-il un délai de carence pour « {topic} » avec {P} ?",
        "Quel délai d'attente prévoit {P} pour « {topic} » ?",
        "Pour {P}, au bout de combien de temps suis-je couvert pour « {topic} » ?",
    ),
    "waiting_period_no_topic": (
        "Y a-t-il un délai de carence avec {P} ?",
        "Quels délais d'attente prévoit le contrat {P} ?",
    ),
    "deadline_action": (
        "Pour {P}, dans quel délai faut-il {vp} ?",
        "Combien de temps ai-je pour {vp} avec {P} ?",
        "{P} : quel est le délai pour {vp} ?",
    ),
    "deadline": (
        "Quel délai faut-il respecter pour « {topic} » avec {P} ?",
        "Pour {P}, quels sont les délais en matière de {topic_l} ?",
        "Pour {P}, quels délais s'appliquent à « {topic} » ?",
    ),
    "amount_subject": (
        "À combien {s_eleve} {np} pour « {topic} » avec {P} ?",
        "Pour {P}, quel est le montant {de_np} en matière de {topic_l} ?",
        "Combien représente {np} pour « {topic} » dans le contrat {P} ?",
    ),
    "amount_subject_no_topic": (
        "À combien {s_eleve} {np} avec {P} ?",
        "Pour {P}, quel est le montant {de_np} ?",
    ),
    "amount_limit": (
        "Jusqu'à quel montant {P} couvre-t-il « {topic} » ?",
        "Quel est le plafond prévu pour « {topic} » par {P} ?",
        "Pour {P}, y a-t-il un plafond en matière de {topic_l} ?",
    ),
    "amount_franchise": (
        "Quelle franchise s'applique pour « {topic} » avec {P} ?",
        "Pour {P}, y a-t-il une franchise en matière de {topic_l} ?",
        "Combien reste à ma charge pour « {topic} » avec {P} ?",
    ),
    "amount_price": (
        "Combien coûte {P} ?",
        "Quel est le prix du contrat {P} ?",
        "Pour {P}, combien faut-il payer en matière de {topic_l} ?",
    ),
    "amount": (
        "Quels montants prévoit {P} pour « {topic} » ?",
        "Pour {P}, combien est prévu en matière de {topic_l} ?",
        "Quel est le montant prévu par {P} pour « {topic} » ?",
    ),
    "percentage_refund": (
        "À quel pourcentage {P} rembourse-t-il « {topic} » ?",
        "Pour {P}, quel taux de remboursement en matière de {topic_l} ?",
        "Combien rembourse {P} pour « {topic} » ?",
    ),
    "percentage": (
        "Quel pourcentage s'applique à « {topic} » avec {P} ?",
        "Pour {P}, quel est le taux prévu en matière de {topic_l} ?",
        "Quel taux prévoit le contrat {P} pour « {topic} » ?",
    ),
    "duration": (
        "Combien de temps dure « {topic} » avec {P} ?",
        "Pour {P}, quelle est la durée prévue en matière de {topic_l} ?",
        "Pendant combien de temps s'applique « {topic} » dans le contrat {P} ?",
    ),
    "duration_no_topic": (
        "Quelle est la durée du contrat {P} ?",
        "Pour combien de temps le contrat {P} est-il conclu ?",
    ),
    "eligibility_age": (
        "À quel âge peut-on souscrire {P} ?",
        "Y a-t-il une limite d'âge pour {P} ?",
        "Pour {P}, quelles sont les conditions d'âge en matière de {topic_l} ?",
    ),
    "eligibility": (
        "Qui peut souscrire {P} ?",
        "Quelles conditions faut-il remplir pour « {topic} » avec {P} ?",
        "Pour {P}, quelles sont les conditions en matière de {topic_l} ?",
    ),
    "procedure": (
        "Comment se passe « {topic} » avec {P} ?",
        "Quelles sont les démarches en matière de {topic_l} pour {P} ?",
        "Pour {P}, comment faire pour « {topic} » ?",
    ),
    "deadline_np": (
        "Pour {P}, quel est le délai pour {np} ?",
        "Quel délai s'applique à {np} avec {P} ?",
        "{P} : en combien de temps pour {np} ?",
    ),
    "amount_np": (
        "Pour {P}, quel montant est prévu pour {np} ?",
        "Quel montant s'applique à {np} avec {P} ?",
        "{P} : combien pour {np} ?",
    ),
    "percentage_np": (
        "Pour {P}, quel taux s'applique à {np} ?",
        "Quel pourcentage est prévu pour {np} avec {P} ?",
    ),
    "duration_np": (
        "Pour {P}, combien de temps pour {np} ?",
        "Quelle durée s'applique à {np} avec {P} ?",
    ),
    "procedure_np": (
        "Pour {P}, quelle est la démarche pour {np} ?",
        "Comment procéder pour {np} avec {P} ?",
    ),
    "coverage": (
        "Que couvre {P} au titre de « {topic} » ?",
        "Qu'est-ce qui est pris en charge en matière de {topic_l} par {P} ?",
        "Pour {P}, que comprend « {topic} » ?",
    ),
    "must": (
        "Pour {P}, dois-je {vp} ?",
        "Est-ce qu'il faut {vp} avec {P} ?",
        "{P} : suis-je obligé de {vp} ?",
    ),
    "condition": (
        "Que se passe-t-il {cond} avec {P} ?",
        "Pour {P}, que prévoit le contrat {cond} ?",
        "{P} : qu'est-ce qui s'applique {cond} ?",
    ),
    "possibility": (
        "Pour {P}, puis-je {vp} ?",
        "Est-il possible de {vp} avec {P} ?",
        "{P} : est-ce qu'on peut {vp} ?",
    ),
    "section": (
        "Que prévoit {P} en matière de {topic_l} ?",
        "Pour {P}, que dit le contrat sur « {topic} » ?",
        "Qu'est-ce que « {topic} » dans le contrat {P} ?",
        "Comment fonctionne « {topic} » avec {P} ?",
    ),
    "statement": (
        "Que prévoit {P} concernant {np} ?",
        "Pour {P}, que dit le contrat sur {np} ?",
        "Qu'en est-il {de_np} avec {P} ?",
    ),
}


def _fill(frame: str, values: Mapping[str, str]) -> str | None:
    """The frame filled in, or None when it needs a value that is missing."""
    for name in re.findall(r"\{(\w+)\}", frame):
        if not values.get(name):
            return None
    question = _contract(_clean(frame.format_map(dict(values))))
    return question[:1].upper() + question[1:]


_CONTRACTIONS = (
    (re.compile(r"\bde les\b"), "des"),
    (re.compile(r"\bde le\b"), "du"),
    (re.compile(r"\bà les\b"), "aux"),
    (re.compile(r"\bà le\b"), "au"),
    (re.compile(r"\b([dD])e ([aeiouyéèêàâîôûAEIOUYÉÈÊÀÂÎÔÛ])"), r"\1'\2"),
)


def _readable(question: str) -> bool:
    """Not a pile of clauses: at most one colon and two commas."""
    return question.count(" : ") <= 1 and question.count(" : ") + question.count(", ") <= 2


def _contract(text: str) -> str:
    """French contractions a frame creates: "de les" → "des", "de incendie" → "d'incendie"."""
    for pattern, replacement in _CONTRACTIONS:
        text = pattern.sub(replacement, text)
    return text


# Families whose questions name only the product: asked of a sentence that fits no other.
_GENERIC_FAMILIES = frozenset(
    {"exclusion_no_topic", "amount_price", "duration_no_topic", "waiting_period_no_topic"}
)


# Families that need the section's topic, and the family that asks about the sentence's
# opening noun phrase instead.
_NP_FALLBACK = {
    "deadline": "deadline_np",
    "amount": "amount_np",
    "amount_limit": "amount_np",
    "amount_franchise": "amount_np",
    "percentage": "percentage_np",
    "percentage_refund": "percentage_np",
    "duration": "duration_np",
    "duration_no_topic": "duration_np",
    "procedure": "procedure_np",
}


class TemplateWriter:
    """Templated (question, answer) pairs of one passage."""

    def __init__(
        self, products: Mapping[str, str] | None = None, *, max_per_context: int = 5
    ) -> None:
        self.products = dict(products or {})
        self.max_per_context = max_per_context

    def product(self, chunk: Chunk) -> str:
        title = chunk.metadata.get("title", "")
        return self.products.get(chunk.product_code) or product_name(title) or ""

    def propose(self, chunk: Chunk, *, section_start: bool = False) -> list[Proposal]:
        """Pairs of the passage: the heading's question first (on the first passage of its
        section), then one pair per sentence that a pattern recognises (its most specific
        kind that gives a question), then, while there is room (`max_per_context`), a second
        kind of a sentence when its answer differs (the clause of a figure, the sentence)."""
        product = self.product(chunk)
        if not product:
            return []
        heading = parse_heading(chunk.section)
        sentences = units(chunk.text)
        proposals: list[Proposal] = []
        if section_start and heading.question and sentences:
            faq = self._faq(chunk, heading.question, sentences, product)
            if faq is not None:
                proposals.append(faq)
        elif section_start and heading.topic and sentences and not heading.is_glossary:
            overview = self._overview(chunk, heading, sentences, product)
            if overview is not None:
                proposals.append(overview)
        used_evidence = {p.evidence for p in proposals}
        usable = [s for s in sentences if len(s) >= 25 and standalone(s) and s not in used_evidence]
        for sentence in usable:  # one question per sentence, its most specific kind
            if len(proposals) >= self.max_per_context:
                break
            kinds = detect_kinds(sentence, heading)
            # A specific question first; a question about the whole product ("Qu'est-ce qui
            # n'est pas couvert par …?") only when no other kind gives one.
            candidates = (
                self._sentence(chunk, kind, sentence, heading, product, generic=generic)
                for generic in (False, True)
                for kind in kinds
            )
            proposal = next((c for c in candidates if c is not None), None)
            if proposal is not None:
                proposals.append(proposal)
        for sentence in usable:  # room left: a second kind with another answer
            if len(proposals) >= self.max_per_context:
                break
            asked = {p.kind for p in proposals if p.evidence == sentence}
            if len(asked) != 1:
                continue
            answers = {_folded(p.answer) for p in proposals}
            second = (
                self._sentence(chunk, kind, sentence, heading, product, generic=False)
                for kind in detect_kinds(sentence, heading)
                if kind not in asked
            )
            proposal = next(
                (c for c in second if c is not None and _folded(c.answer) not in answers), None
            )
            if proposal is not None:
                proposals.append(proposal)
        return proposals

    # -- one pair per kind

    def _values(self, heading: Heading, product: str, passage: str) -> dict[str, str]:
        """The values of the frames; the topic only when the passage speaks of it (a heading
        such as "Dispositions diverses" says nothing of a sentence about a guarantee fund)."""
        topic = heading.topic or ""
        if topic and not content_stems(topic) & content_stems(passage):
            topic = ""
        if topic and (topic.lower() in product.lower() or product.lower() in topic.lower()):
            topic = ""
        return {"P": product, "topic": topic, "topic_l": _lower_first(topic)}

    def _question(
        self, chunk: Chunk, family: str, sentence: str, values: Mapping[str, str]
    ) -> tuple[str, str] | None:
        frames = _FRAMES[family]
        first, _ = _pick(f"{chunk.chunk_id}\n{sentence}\n{family}", frames)
        for offset in range(len(frames)):  # the chosen frame, else the next that can be filled
            index = (first + offset) % len(frames)
            question = _fill(frames[index], values)
            if question is not None and _readable(question):
                return f"{family}/{index}", question
        return None

    def _faq(self, chunk: Chunk, asked: str, sentences: list[str], product: str) -> Proposal | None:
        opening = _opening(sentences)
        if opening is None:
            return None
        answer, evidence = opening
        asked = _clean(asked)
        if product.lower() in asked.lower():
            template, question = "faq/named", asked
        else:
            values = {"P": product, "q": _lower_first(asked), "Q_body": asked.rstrip(" ?")}
            chosen = self._question(chunk, "faq", asked, values)
            if chosen is None:
                return None
            template, question = chosen
        return Proposal("faq", template, question, answer, evidence)

    def _overview(
        self, chunk: Chunk, heading: Heading, sentences: list[str], product: str
    ) -> Proposal | None:
        """The first passage of a titled section: what the contract says on its topic."""
        values = self._values(heading, product, chunk.text)
        opening = _opening(sentences)
        if not values["topic"] or opening is None or not standalone(sentences[0]):
            return None
        answer, evidence = opening
        chosen = self._question(chunk, "section", evidence, values)
        if chosen is None:
            return None
        template, question = chosen
        return Proposal("section", template, question, answer, evidence)

    def _sentence(
        self,
        chunk: Chunk,
        kind: str,
        sentence: str,
        heading: Heading,
        product: str,
        *,
        generic: bool = True,
    ) -> Proposal | None:
        """The pair of one kind for a sentence; with `generic` False, None when the question
        could only be about the whole product."""
        pair = _label_value(sentence)
        if (
            kind in ("amount", "percentage", "deadline", "duration", "waiting_period")
            and pair is not None
            and pair[0][:1].isupper()
            and _first_word(pair[0]) not in _PREPOSITIONS
            and _is_topic(pair[0])
        ):
            heading = Heading(heading.question, pair[0], heading.section)  # "Franchise vol : 300 €"
        values = self._values(heading, product, chunk.text)
        if not values["topic"]:
            heading = Heading(heading.question, None, heading.section)
        family = kind
        answer = _capitalised(sentence)
        if kind == "obligation" and (duty := _listed_duty(sentence, heading)) is not None:
            family = "must"  # the title says it is an obligation
            values["vp"] = duty
            answer = f"Oui : {duty}."
        elif kind == "obligation" and (must := _MUST.match(sentence)) is not None:
            if re.search(r"\b(?:vous|votre|vos)\b", must["vp"], re.IGNORECASE):
                return None
            family = "must"
            values["vp"] = _clean(must["vp"])
        elif kind in ("definition", "obligation"):
            pair = _label_value(sentence)
            if pair is not None:
                term, body = pair
            elif (entry := _GLOSSARY_ENTRY.match(sentence)) is not None and not _DEFINES.match(
                sentence
            ):
                term, body = entry["term"], entry["body"]
            else:
                match = _DEFINES.match(sentence)
                if match is None:
                    return None
                term = match["term1"] or match["term2"]
                body = match["body1"] or match["body2"]
                term = re.sub(r"^(?:le|la|les|l['’])\s?", "", term.strip(), flags=re.IGNORECASE)
            if kind == "definition":
                values["term"] = _lower_first(term)
                answer = _capitalised(body)
            else:
                values["label"] = _lower_first(term)
        elif kind in ("exclusion", "coverage") and (np := _covered_thing(sentence)) is not None:
            family = "covered_or_not"  # "Le vol sans effraction n'est pas couvert" → yes or no
            values["np"] = np
        elif (listed := _listed_thing(sentence, heading)) is not None:
            # An item of a list titled "Qu'est-ce qui n'est pas assuré ?": the title says no.
            family = "covered_or_not"
            values["np"], verdict = listed
            answer = f"{verdict} : {_lower_first(_clean(sentence).rstrip(' .;'))}."
        elif kind == "exclusion":
            family = "exclusion" if heading.topic else "exclusion_no_topic"
        elif kind == "waiting_period":
            family = "waiting_period" if heading.topic else "waiting_period_no_topic"
            answer = _clause(sentence, _WAITING.search(sentence))
        elif kind == "deadline":
            match = _DEADLINE.search(sentence)
            must = _MUST_DO.search(sentence)
            if must is not None:
                family = "deadline_action"
                values["vp"] = _clean(must["vp"])
            answer = _clause(sentence, match)
        elif kind == "amount":
            match = EURO.search(sentence)
            subject = _SUBJECT_AMOUNT.search(sentence)
            if subject is not None:
                np = _lower_first(_clean(subject["np"]))
                values["np"], values["de_np"] = np, _de(np)
                values["s_eleve"] = "s'élèvent" if np.lower().startswith("les ") else "s'élève"
                family = "amount_subject" if heading.topic else "amount_subject_no_topic"
            elif _FRANCHISE.search(sentence):
                family = "amount_franchise"
            elif _LIMIT.search(sentence):
                family = "amount_limit"
            elif _PRICE.search(sentence):
                family = "amount_price"
            answer = _clause(sentence, match)
        elif kind == "percentage":
            family = "percentage_refund" if _REFUND.search(sentence) else "percentage"
            subject = _SUBJECT_AMOUNT.search(sentence)
            if subject is not None:
                np = _lower_first(_clean(subject["np"]))
                values["np"], values["de_np"] = np, _de(np)
                values["s_eleve"] = "s'élèvent" if np.lower().startswith("les ") else "s'élève"
                family = "amount_subject" if heading.topic else "amount_subject_no_topic"
            answer = _clause(sentence, PERCENT.search(sentence))
        elif kind == "duration":
            family = "duration" if heading.topic else "duration_no_topic"
            answer = _clause(sentence, _DURATION.search(sentence))
        elif kind == "eligibility":
            family = "eligibility_age" if _AGE.search(sentence) else "eligibility"
        elif kind == "possibility":
            match = _POSSIBILITY.match(sentence)
            if match is None or re.search(r"\b(?:vous|votre|vos)\b", match["vp"], re.IGNORECASE):
                return None
            values["vp"] = _clean(match["vp"])
        elif kind == "statement":
            opening = statement_subject(sentence)
            if opening is None:
                return None
            np = _lower_first(_clean(opening))
            values["np"], values["de_np"] = np, _de(np)
        elif kind == "condition":
            match = _CONDITION.match(sentence)
            if (
                match is None
                or re.search(r"\b(?:vous|votre|vos)\b", match["cond"], re.IGNORECASE)
                or match["cond"].count("(") != match["cond"].count(")")
            ):
                return None
            values["cond"] = _lower_first(_clean(match["cond"]))
        if len(answer) > MAX_ANSWER_CHARS:
            return None
        if not values["topic"] and family in _NP_FALLBACK:
            # No topic to ask about: ask about the noun phrase the sentence opens on.
            opening = statement_subject(sentence)
            if opening is not None and _usable_subject(opening):
                np = _lower_first(_clean(opening))
                family, values["np"], values["de_np"] = _NP_FALLBACK[family], np, _de(np)
        if not generic and (
            family in _GENERIC_FAMILIES or (family == "eligibility" and not heading.topic)
        ):
            return None
        chosen = self._question(chunk, family, sentence, values)
        if chosen is None:
            return None
        template, question = chosen
        return Proposal(kind, template, question, answer, sentence)


def _opening(sentences: Sequence[str]) -> tuple[str, str] | None:
    """The first sentences of a section (at least 60 characters, at most three, an
    introduction ending with a colon never alone), as answer and evidence."""
    chosen: list[str] = []
    for sentence in sentences:
        chosen.append(sentence)
        if sentence.endswith(":"):
            continue
        if sum(len(s) for s in chosen) >= 60 or len(chosen) >= 3:
            break
    evidence = " ".join(chosen)
    answer = _capitalised(evidence)
    if len(answer) > MAX_ANSWER_CHARS:
        evidence = chosen[0]
        answer = _capitalised(evidence)
    if len(answer) > MAX_ANSWER_CHARS or evidence.endswith(":") or looks_like_table(evidence):
        return None
    return answer, evidence


def section_starts(chunks: Sequence[Chunk]) -> set[str]:
    """Chunk ids of the first passage of each (document, section) run, in reading order."""
    first: set[str] = set()
    previous: tuple[str, str] | None = None
    for chunk in chunks:
        key = (chunk.document, chunk.section)
        if key != previous:
            first.add(chunk.chunk_id)
        previous = key
    return first
