"""Answer validation: reject what the passages do not support, contradict, or never promised.

Four checks, all pure Python (no model unless an embedder is given), a fraction of a millisecond
for a short answer:

- Figures: every number, amount, duration and percentage of the answer must appear in the
  passages, with the same unit when it has one: a single invented figure rejects the answer.
- Support: the score mixes the share of the answer's meaningful words found in the passages
  (lexical) with, when an embedder is given, the similarity of the answer with the passages and
  the question (dense). Polarity words (negations, "sauf", "exclu") are left out of the lexical
  share, and the coverage vocabulary ("couvert", "garanti", "pris en charge", "remboursé",
  "exclu") counts as one word: polarity is the next check's business.
- Polarity: each clause of the answer is matched with the clause of the passages that shares
  most of its words; the answer is rejected when that clause says the opposite ("Le vol est
  couvert." against "Le vol n'est pas couvert.", "Les lunettes ne sont pas remboursées." against
  "Les lunettes sont remboursées."). Clauses are read with French negation morphology
  (ne … pas/plus/jamais/guère/rien, aucun, ni, nul, "non couvert", "exclu", "à votre charge"),
  exceptions ("sauf", "hors", "à l'exception de", "hormis", "excepté", "sans", "à moins de") whose
  scope says the opposite of their main clause, list items under a heading ("Sont exclus :"),
  and yes/no questions answered by "Oui" or "Non" (the answer's, with the person's question, and
  an FAQ's in the passages).
- Commitments: what the insurer would not sign. A speaker's promise ("je vous garantis",
  "c'est promis"), a certainty the passages do not state ("forcément", "à coup sûr"), an
  insurer's promise ("nous vous garantissons") or an acceptance promised to this person ("vous
  serez accepté", "votre dossier sera accepté", "on ne vous refusera pas") that no passage
  states, and a price or amount promised to this person ("vous paierez 30 € par mois", "votre
  cotisation sera de …") unless every figure is quoted from the passages as they give it (a
  ceiling stays a ceiling; a starting price or an example is not this person's price).
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise

import numpy as np
import Stemmer

from common.french_numbers import numbers_in, quantities_in
from knowledge.chunking import split_sentences as split_paragraph
from knowledge.interfaces import Embedder
from knowledge.lexical import FRENCH_STOP_WORDS, fold_accents

_CITATION = re.compile(r"\[\d+\]")

DEFAULT_THRESHOLD = 0.55
# Share of an answer clause's words that the closest passage clause must hold before their
# polarities are compared (below it, the clauses may not speak of the same thing).
CONTRADICTION_COVERAGE = 0.7
# Share of an answer clause's words a passage clause must hold, with the same polarity, for the
# passages to state a commitment the answer makes (an acceptance rule, the insurer's promise).
COMMITMENT_SUPPORT = 0.75

# --- Polarity vocabulary ---------------------------------------------------------------------

# Negative words that negate without "ne" ("pas de franchise", "aucun remboursement").
_NEGATORS = frozenset({"pas", "jamais", "aucun", "aucune", "aucuns", "aucunes", "rien", "ni",
                       "nullement", "nul", "nulle"})  # fmt: skip
# Negative words that negate only after "ne": "ne … plus" (but "plus de 10 ans").
_NE_COMPLEMENTS = frozenset({"plus", "guère", "point", "personne"})
# Words whose meaning is a negation of coverage or of possibility.
_NEGATIVE_WORD = re.compile(
    r"(?:exclu(?:e|s|es|t|ent|re|ant)?|exclusions?|impossibles?|interdite?s?|facultati(?:f|fs|ve|ves))$"
)
# Coverage vocabulary, folded into one term so that "couvert", "garanti", "pris en charge",
# "remboursé", "indemnisé", "inclus" and "exclu" speak of the same thing.
_COVER_WORD = re.compile(
    r"(?:couv(?:r|er)\w*|garanti\w*|rembours\w*|indemnis\w*|inclu(?:s|se|ses|t|ent|re|ant)?|"
    r"exclu(?:e|s|es|t|ent|re|ant)?|exclusions?)$"
)
_COVER = "<couvert>"
# Predicates a "non" negates ("non couvert", "non imposable"); elsewhere "non" only qualifies
# the next word ("non intentionnel", "non-fumeur") and becomes part of it.
_NON_PREDICATE = re.compile(
    r"(?:couv(?:r|er)\w*|garanti\w*|rembours\w*|indemnis\w*|inclu\w*|pris(?:e|es)?|accept\w*|"
    r"admise?s?|assurée?s?|assurables?|éligibles?|imposables?|déductibles?|applicables?|"
    r"obligatoires?|prévue?s?|compris(?:e|es)?|soumise?s?|autorisée?s?|valables?|acquise?s?|"
    r"versée?s?|payée?s?|résiliables?)$"
)
# Scope openers that say the opposite of their clause ("couvert, sauf …", "exclu, sauf si …").
_EXCEPTIONS = frozenset({"sauf", "hors", "hormis", "excepté", "exceptée", "exceptés",
                         "exceptées", "<exception>", "sans"})  # fmt: skip
# A "sans" scope is short ("garantis sans supplément pendant 30 jours": only "supplément").
_SANS_STOP = frozenset({"pendant", "durant", "dans", "dès", "depuis", "après", "avant", "pour",
                        "jusqu", "à", "au", "aux", "en", "sur", "sous", "par", "entre", "chez",
                        "avec", "si", "lorsque", "quand", "et", "ou", "mais", "dont", "qui",
                        "que"})  # fmt: skip
# Words that end a clause and start another with its own polarity.
_CLAUSE_BREAKS = frozenset({"mais", "tandis", "cependant", "toutefois", "néanmoins",
                            "<en_revanche>", "<par_contre>"})  # fmt: skip
_YES_NO = frozenset({"oui", "non"})
_SUBJECT_PRONOUNS = frozenset({"il", "elle", "ils", "elles", "on", "vous", "nous", "je", "tu"})
_CONJUNCTIONS = frozenset({"si", "lorsque", "lorsqu", "quand", "puisque", "puisqu"})
_SUBORDINATORS = frozenset({"qui", "que", "dont", "si", "lorsque", "quand", "où", "lorsqu"})
# Auxiliaries, modals and common verbs that end a clause's subject.
_VERB_MARKERS = frozenset({"ne", "est", "sont", "sera", "seront", "serait", "a", "ont", "aura",
                           "peut", "peuvent", "doit", "doivent", "reste", "restent", "fait",
                           "font", "donne", "donnent", "prend", "prennent", "comprend",
                           "couvre", "couvrent", "intervient", "interviennent",
                           "coûte"})  # fmt: skip
# Finite verbs that make a clause a statement (besides coverage and negative words).
_PREDICATES = _VERB_MARKERS | frozenset(
    """était étaient avait avaient auront pourra pourront devra devront faut suffit va vont
    applique appliquent intervient interviennent verse versent bénéficie bénéficient relève
    relèvent permet permettent inclut exclut dépend dépendent ajoute ajoutent paie paient paye
    payent prévoit prévoient concerne concernent figure figurent existe existent suit suivent
    augmente augmentent baisse diminue varie varient reçoit reçoivent perçoit perçoivent obtient
    obtiennent offre offrent propose proposent demande demandent exige exigent accepte acceptent
    refuse refusent agit correspond correspondent constitue constituent devient deviennent
    sera seront serez serais seriez""".split()  # noqa: SIM905 (a word list reads better as text)
)
_PRONOUNS = frozenset({"il", "elle", "ils", "elles", "celui-ci", "celle-ci", "ceux-ci",
                       "celles-ci", "ce"})  # fmt: skip
# Questions that are not yes/no questions.
_OPEN_QUESTION = re.compile(
    r"^\s*(?:[àa] partir de quand|quel|quelle|quels|quelles|combien|comment|quand|où|pourquoi|"
    r"qui|que|qu'|quoi|lequel|laquelle|lesquel)",
    re.IGNORECASE,
)
_ASIDE = re.compile(r"\(([^()]*)\)")
_BULLET = re.compile(r"^\s*(?:[-–—•·*▪◦]|\d{1,2}[.)]|[a-z][.)])\s+")
_POLARITY_WORDS = (
    _NEGATORS | _NE_COMPLEMENTS | _EXCEPTIONS | _YES_NO | {"ne", "non", "seul", "seule"}
)
# Words of almost every sentence of an insurer's documents, which say nothing of the topic.
_GENERIC = frozenset({"contrat", "contrats", "assureur", "vergemont"})
# Prepositions the stop list keeps: they say nothing of what a clause is about.
_PREPOSITIONS = frozenset({"depuis", "pendant", "durant", "après", "dès", "selon", "sous", "vers",
                           "contre", "parmi", "jusqu", "lors", "via", "compris", "y"})  # fmt: skip
_IGNORED = (
    FRENCH_STOP_WORDS | _POLARITY_WORDS | _GENERIC | _PREPOSITIONS | {"charge", "seuls", "seules"}
)

# Multi-word expressions rewritten before tokenising (lower-case text).
_PHRASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\bs'(?=ils?\b)"), "si "),
    (re.compile(r"\bn'(?=\w)"), "ne "),
    # "X, pas Y" and "X et non Y" contrast like "X, mais pas Y"; "X est A et ne … pas B" says
    # two things of the same subject.
    (re.compile(r",\s+(?:et\s+)?(?:pas|non)\s+(?=\w)|\bet\s+non\s+(?=\w)"), " mais pas "),
    (re.compile(r"\bet\s+(?=ne\s)"), " ; il "),
    (re.compile(r"\bet\s+(?=(?:jamais|pas|aucune?|sans)\b)"), " mais "),
    (re.compile(r"\s•\s|^•\s"), " • "),
    # Inverted subjects of questions: "sont-elles", "a-t-il", "est-ce".
    (re.compile(r"-(?:t-)?(?:il|elle|ils|elles|on|je|tu|vous|nous|ce)\b"), " "),
    (re.compile(r"\b(?:pris|prise|prises|prend|prennent|prendre|prenons|prenez)\s+en\s+charge\b"),
     " couvert "),
    # "à votre charge", "à la charge de l'assuré": not covered.
    (re.compile(r"\b(?:reste|restent|restera|resteront|demeure|demeurent|est|sont|sera|seront)\s+"
                r"à\s+(?:votre\s+charge|la\s+charge\s+(?:de\s+l'|du\s+|des\s+)(?:assurée?|"
                r"adhérente?|souscripteur|bénéficiaire|emprunteur|propriétaire|locataire)s?)\b"),
     " sont exclu "),
    (re.compile(r"\bà l'exception\s+(?:de|des|du|d')|\bexception faite\s+(?:de|des|du|d')|"
                r"\ben dehors\s+(?:de|des|du|d')|\bà moins\s+(?:que|qu'|de|d')"),
     " <exception> "),
    (re.compile(r"\bhors\s+(?:de|du|des|d')"), " <hors_de> "),  # "hors de France": a place
    (re.compile(r"\b(?:en\s+l'absence|à\s+défaut)\s+(?:de|des|du|d')"), " sans "),
    (re.compile(r"\ben revanche\b"), " <en_revanche> "),
    (re.compile(r"\bpar contre\b"), " <par_contre> "),
    # "ne … que" is a restriction, not a negation: "ne sont remboursés que les verres".
    (re.compile(r"\bne\s+((?:(?!pas\b|plus\b|jamais\b|aucune?\b|rien\b|guère\b|point\b|ni\b)"
                r"[\w-]+\s+){0,6})qu(?:e\b|')"),
     r" \1que "),
    (re.compile(r"\bjusqu'"), "jusqu "),
    (re.compile(r"\b(?:[cdjlmst]|qu|lorsqu|puisqu|quoiqu)'(?=\w)"), " "),
)  # fmt: skip
_TOKEN = re.compile(r"<\w+>|[^\W\d_]+(?:-[^\W\d_]+)*|\d+(?:[ .]\d{3})*(?:,\d+)?|[;:,•]")


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    return re.sub(r"[\u00a0\u202f\t ]+", " ", text.replace("’", "'").replace("ʼ", "'"))


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("french")


@lru_cache(maxsize=8192)
def _stem(word: str) -> str:
    if _COVER_WORD.match(word):
        return _COVER
    return fold_accents(_stemmer().stemWord(word))


@dataclass(frozen=True)
class Clause:
    """A clause of a text: its meaningful terms and whether it is negative."""

    text: str
    terms: frozenset[str]
    negative: bool
    # The clause's own terms, without those it shares with the clause it depends on ("sauf
    # les frais de vaccination" in "les frais vétérinaires sont remboursés, sauf …"): a passage
    # clause must hold one of them to speak of the same thing. Empty: all the terms.
    focus: frozenset[str] = frozenset()
    # False where the polarity cannot be read: a table row flattened into text, a list item
    # whose heading ("Sont exclus :") is not in the passage.
    reliable: bool = True
    # Whether the clause asserts something: it has a verb, a coverage word or a negation, and
    # is not a subordinate clause standing alone ("s'il s'agit d'un contrat équivalent").
    claims: bool = True

    def own_terms(self) -> frozenset[str]:
        return self.focus or self.terms


def _tokens(text: str) -> list[str]:
    text = _normalise(text)
    for pattern, replacement in _PHRASES:
        text = pattern.sub(replacement, text)
    words = _TOKEN.findall(text)
    merged: list[str] = []
    skip = False
    for index, word in enumerate(words):
        if skip:
            skip = False
            continue
        following = words[index + 1] if index + 1 < len(words) else ""
        if word == "non" and index > 0 and following and following[0].isalpha():
            if _NON_PREDICATE.match(following):
                merged.extend(["non", following])
            else:
                merged.append(f"non_{following}")  # "non intentionnel": one qualified word
            skip = True
            continue
        merged.append(word)
    return merged


def _terms(words: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for word in words:
        if word in _IGNORED or word in ",;:" or word.startswith("<"):
            continue
        if word[0].isdigit():
            found.add("#" + re.sub(r"[ .]", "", word))
        elif len(word) > 1:
            found.add(_stem(word))
    return found


def _subordinate(words: Sequence[str], index: int) -> bool:
    """Whether the negation at `index` belongs to a subordinate clause ("un versement qui ne
    respecte pas cette règle", "si la cotisation n'est pas payée", "lorsque l'arrivée d'eau
    n'a pas été fermée"), not to the main one. A relative pronoun must stand right before
    "ne" ("les arrêts qui commencent pendant le délai ne sont pas indemnisés" is the main
    clause's negation); a conjunction may have a short subject in between."""
    for position in range(index - 1, max(-1, index - 5), -1):
        if words[position] == "ne":
            before = position - 1
            if before >= 0 and words[before] in _SUBJECT_PRONOUNS:
                before -= 1
            if before >= 0 and words[before] in _SUBORDINATORS:
                return True
            window = words[max(0, position - 5) : position]
            return any(word in _CONJUNCTIONS for word in window) and not any(
                word in {",", ";", ":"} for word in window[-3:]
            )
    return False


def _negation_count(words: Sequence[str]) -> int:
    """How many negations a clause holds; a negated negative word cancels out ("n'est pas
    exclu", "aucune exclusion", "sans exclusion")."""
    grammatical: list[int] = []
    for index, word in enumerate(words):
        after_ne = word in _NE_COMPLEMENTS and "ne" in words[:index]
        if (word in _NEGATORS or word == "non" or after_ne) and not _subordinate(words, index):
            grammatical.append(index)
    lexical = [i for i, word in enumerate(words) if _NEGATIVE_WORD.match(word)]
    cancelled = 0
    for position in lexical:
        if any(0 < position - g <= 3 for g in grammatical):
            cancelled += 1
    # Coordinated negations ("sont exclus et n'entraînent aucun versement") do not cancel out:
    # a clause is negative when any negation is left.
    return len(lexical) - cancelled + (1 if len(grammatical) > cancelled else 0)


def _ends_noun_phrase(word: str) -> bool:
    """A verb or a negation after "sans X" / "hors X" ends the scope: "hors option prise en
    charge" is about the option only."""
    return word in _VERB_MARKERS or bool(_COVER_WORD.match(word)) or word in _NEGATORS


def _exception_scopes(words: list[str]) -> tuple[list[str], list[tuple[str, list[str]]]]:
    """The main clause's words and each exception scope's opener and words."""
    main: list[str] = []
    scopes: list[tuple[str, list[str]]] = []
    index = 0
    while index < len(words):
        word = words[index]
        if word not in _EXCEPTIONS:
            main.append(word)
            index += 1
            continue
        scope: list[str] = []
        index += 1
        while index < len(words) and words[index] not in {",", ";", ":"}:
            following = words[index]
            short = word in {"sans", "hors"}
            if short and scope and (following in _SANS_STOP or _ends_noun_phrase(following)):
                break
            if following in _EXCEPTIONS:
                break
            scope.append(following)
            index += 1
        if scope:
            scopes.append((word, scope))
    return main, scopes


def _subject_terms(words: Sequence[str]) -> frozenset[str]:
    """The terms of a clause's subject: its words before the verb (approximated by the first
    negation, auxiliary, modal or coverage word), which a pronoun in the next clause stands for."""
    subject: list[str] = []
    for word in words:
        if word in _VERB_MARKERS or _COVER_WORD.match(word) or _NEGATIVE_WORD.match(word):
            break
        subject.append(word)
    return frozenset(_terms(subject))


def _tabular(words: Sequence[str]) -> bool:
    """A table row flattened into text: cells repeated side by side ("Non couvert Non couvert",
    "100 % BR 100 % BR") or figures next to each other ("200 € 300 €")."""
    tokens = [word for word in words if word not in {",", ";", ":", "•"}]
    for size in (1, 2, 3):
        for start in range(len(tokens) - 2 * size + 1):
            if tokens[start : start + size] == tokens[start + size : start + 2 * size]:
                return True
    return any(a[0].isdigit() and b[0].isdigit() for a, b in pairwise(tokens))


def _clauses_of_words(
    words: list[str], head: Clause | None, text: str, previous: frozenset[str] = frozenset()
) -> list[Clause]:
    """The main clause and its exception scopes. `head`: the heading the clause depends on
    (its terms, and its polarity unless the clause has a negation of its own); `previous`: the
    subject a leading pronoun stands for ("Sans cette option, elles sont exclues")."""
    main, scopes = _exception_scopes(words)
    content = [word for word in main if word not in {",", ";", ":"}]
    antecedent = previous if content and content[0] in _PRONOUNS else frozenset()
    own_terms = frozenset(_terms(main)) | antecedent
    terms = own_terms
    own = _negation_count(main)
    negative = own > 0
    if head is not None:
        terms |= head.terms
        if not own:
            negative = head.negative
    focus = own_terms if terms != own_terms else frozenset()
    found: list[Clause] = []
    # "Sans X, Y n'est pas garanti" says that Y is garanti with X, not that Y is not garanti.
    leading_condition = bool(scopes) and scopes[0][0] == "sans" and words[0] == "sans"
    reliable = (
        sum(term.startswith("#") for term in terms) < 3 and len(terms) <= 30 and not _tabular(main)
    )
    if (own_terms or head) and not (leading_condition and negative):
        found.append(Clause(text, terms, negative, focus, reliable, _claims(main)))
        if not negative and any(_subordinate(main, i) for i in range(len(main))):
            # "Le conducteur qui ne portait pas de casque …": the negation is the
            # subordinate clause's; the same terms are read both ways.
            found.append(Clause(text, terms, True, focus, reliable))
    for number, (opener, scope) in enumerate(scopes):
        scope_own = frozenset(_terms(scope))
        if opener == "sans" and not (number == 0 and leading_condition):
            # "garantis sans supplément": the supplement is absent.
            scope_negative = _negation_count(scope) == 0
        else:
            # "couvert, sauf X": not with X; "exclu, sauf si X" or "Sans X, exclu": with X,
            # covered.
            scope_negative = (not negative) != (_negation_count(scope) > 0)
        found.append(Clause(text, terms | scope_own, scope_negative, scope_own, reliable))
    return found


def _split_clauses(words: list[str]) -> list[tuple[list[str], str]]:
    """The clauses of a sentence, each with how it relates to the first: "continues" after
    "mais" ("…, mais pas le vol" speaks of what the first clause does), "alone" after ";",
    "item" after a bullet."""
    parts: list[tuple[list[str], str]] = [([], "first")]
    for word in words:
        if word == ";":
            parts.append(([], "alone"))
        elif word == "•":
            parts.append(([], "item"))
        elif word in _CLAUSE_BREAKS:
            parts.append(([], "continues"))
        else:
            parts[-1][0].append(word)
    return [(part, kind) for part, kind in parts if part]


def _sentence_clauses(
    sentence: str, head: Clause | None = None, previous: frozenset[str] = frozenset()
) -> tuple[list[Clause], Clause | None]:
    """The clauses of one sentence, and the heading it opens for the next lines, if any
    ("Sont exclus :" before a list). `previous`: the subject of the sentence before, which a
    leading pronoun stands for ("Elle n'est pas prise en charge …")."""
    asides = _ASIDE.findall(sentence)
    if asides:
        # "(ostéopathie, chiropraxie)", "(rien en Compagnon 50)": read apart, then as part of
        # the clause they stand in (its terms, and its polarity unless they have their own).
        found, opened = _sentence_clauses(_ASIDE.sub(" ", sentence), head, previous)
        main = next((c for c in found if c.reliable), None)
        for aside in asides:
            aside_clauses, _ = _sentence_clauses(aside)
            for clause in aside_clauses:
                if main is not None:
                    negative = clause.negative if _negation_count(_tokens(aside)) else main.negative
                    clause = Clause(
                        sentence, clause.terms | main.terms, negative, clause.terms, main.reliable
                    )
                found.append(clause)
        return found, opened
    words = _tokens(sentence)
    if len(words) > 2 and words[0] == "non":
        following = words[1]
        if following in _SANS_STOP | _PREPOSITIONS | {"sauf", "hors"}:
            words = ["pas", *words[1:]]  # "Non pour les activités obligatoires": not for them
    while words and words[0] in _YES_NO | {","}:
        words = words[1:]  # "Non, le vol est exclu.": the statement carries the polarity
    found = []
    if ":" in words:
        cut = words.index(":")
        before, after = words[:cut], [w for w in words[cut + 1 :] if w != ":"]
        local_head = head
        if _terms(before) or _negation_count(before):
            heading = _clauses_of_words(before, head, sentence, previous)
            found.extend(heading)
            if heading:
                local_head = heading[0]
            elif _negation_count(before):
                local_head = Clause(sentence, frozenset(), True)
        for part, _ in _split_clauses(after):
            # "… n'a plus à être apposé : votre véhicule figure au fichier" explains, with its
            # own verb; a list item ("les dommages intentionnels") depends on its heading.
            item_head = None if _claims(_exception_scopes(part)[0], main_only=True) else local_head
            found.extend(_clauses_of_words(part, item_head, sentence))
        # A heading, or a list run on over lines ("Sont exclus : la guerre ;"), heads the
        # bullets that follow.
        opens = not after or sentence.rstrip().endswith((":", ";", ","))
        return found, local_head if opens else None
    main_terms: frozenset[str] = frozenset()
    subject = previous
    for number, (part, kind) in enumerate(_split_clauses(words)):
        clauses_found = _clauses_of_words(part, head if number == 0 else None, sentence, subject)
        if number == 0:
            main_terms = clauses_found[0].terms if clauses_found else frozenset()
        elif kind == "continues":
            clauses_found = [
                Clause(c.text, c.terms | main_terms, c.negative, c.own_terms(), c.reliable)
                for c in clauses_found
            ]
        if kind == "item" or (words[0] == "•" and head is None):
            # A list item whose heading is elsewhere: its polarity is unknown.
            clauses_found = [_unreliable(c) for c in clauses_found]
        found.extend(clauses_found)
        subject = _subject_terms(_exception_scopes(part)[0]) or subject
    return found, None


def _unreliable(clause: Clause) -> Clause:
    return replace(clause, reliable=False)


def _claims(words: Sequence[str], main_only: bool = False) -> bool:
    """Whether a clause's words assert something (see `Clause.claims`). `main_only`: a verb
    after a relative pronoun does not count ("les dommages qui sont causés …" is a noun
    phrase, an item of a list)."""
    content = [word for word in words if word not in {",", ";", ":", "•"}]
    if not content or content[0] in _SUBORDINATORS | _CONJUNCTIONS:
        return False
    for word in content:
        if main_only and word in {"qui", "que", "dont"}:
            break
        if (
            word in _PREDICATES
            or word in _NEGATORS
            or word == "ne"
            or _COVER_WORD.match(word)
            or _NEGATIVE_WORD.match(word)
        ):
            return True
    return False


def _yes_no_clause(question: str, reply: str) -> Clause | None:
    """A yes/no question answered by "Oui" or "Non": the question's claim, with that polarity."""
    if not question.strip().endswith("?") or _OPEN_QUESTION.match(_normalise(question)):
        return None
    reply_words = _tokens(split_paragraph(reply.strip())[0]) if reply.strip() else []
    first = reply_words[:1]
    if not first or first[0] not in _YES_NO:
        return None
    if len(_terms(reply_words[1:])) >= 3:
        return None  # the reply states its claim itself: "Non, le vol est exclu."
    words = _tokens(question)
    if _negation_count(words):
        return None  # "Le vol n'est-il pas couvert ? Non…" is ambiguous
    terms = frozenset(_terms(words))
    return Clause(question, terms, first[0] == "non") if terms else None


def clauses(text: str) -> list[Clause]:
    """The clauses of a passage or an answer, each with its terms and polarity. Questions give
    no clause of their own, only with the "Oui"/"Non" that answers them."""
    found: list[Clause] = []
    head: Clause | None = None
    previous_question: str | None = None
    previous: frozenset[str] = frozenset()
    for line in text.splitlines():
        bullet = _BULLET.match(line)
        if not bullet:
            head = None
        line = line[bullet.end() :] if bullet else line
        for sentence in split_paragraph(line):
            if previous_question is not None:
                answered = _yes_no_clause(previous_question, sentence)
                if answered is not None:
                    found.append(answered)
                previous_question = None
            if sentence.rstrip().endswith("?"):
                previous_question = sentence
                words = _tokens(sentence)
                # "Qu'est-ce qui n'est pas couvert ?" before a list heads it, like a colon.
                head = Clause(sentence, frozenset(_terms(words)), _negation_count(words) > 0)
                continue
            new, opened = _sentence_clauses(sentence, head if bullet else None, previous)
            # A list item whose heading ("Sont exclus :") is not in the passage, or a passage
            # cut mid-sentence ("les accidents survenus lors de …"): polarity unknown.
            letters = re.sub(r"^[^\w]+", "", sentence)
            if (head is None) if bullet else letters[:1].islower():
                new = [_unreliable(c) for c in new]
            found.extend(new)
            previous = _subject_terms(_exception_scopes(_tokens(sentence))[0]) or previous
            if opened is not None:
                head = opened
    return found


def _coverage(answer: Clause, passage: Clause) -> tuple[float, float]:
    shared = len(answer.terms & passage.terms)
    union = len(answer.terms | passage.terms)
    return shared / len(answer.terms), shared / union if union else 0.0


def _closest(answer: Clause, passage_clauses: Sequence[Clause]) -> tuple[Clause | None, float]:
    """The passage clause holding most of the answer clause's terms (then the closest in
    size), among those holding one of its own terms; and the share of its terms it holds."""
    best: Clause | None = None
    best_key = (0.0, 0.0)
    focus = answer.own_terms()
    for candidate in passage_clauses:
        # Both clauses must speak of the same thing: the passage's "sauf Y" clause is about Y.
        if not focus & candidate.terms or (candidate.focus and not candidate.focus & answer.terms):
            continue
        key = _coverage(answer, candidate)
        # Between clauses that match as well, one that agrees wins: the reading is ambiguous.
        replaces_disagreeing = (
            best is not None
            and key == best_key
            and candidate.negative == answer.negative
            and best.negative != answer.negative
        )
        if key > best_key or replaces_disagreeing:
            best, best_key = candidate, key
    return best, best_key[0]


def _quote(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- Commitments -----------------------------------------------------------------------------

_SPEAKER_PROMISE = re.compile(
    r"\bje\s+(?:vous\s+|te\s+)?(?:le\s+|l')?(?:garantis|promets|certifie|jure)\b|"
    r"\bje\s+m'engage\b|\bje\s+(?:peux|pourrais)\s+vous\s+(?:le\s+)?(?:garantir|promettre|assurer)\b|"
    r"\bje\s+vous\s+assure\b|\bc'est\s+promis\b|\bpromis(?:\s+juré)?\s*[!,.]|"
    r"\bvous\s+avez\s+ma\s+parole\b|\bje\s+suis\s+(?:sûre?|certaine?)\s+que\b"
)
_INSURER_PROMISE = re.compile(
    r"\b(?:nous|on)\s+(?:vous|te)\s+(?:le\s+|l')?(?:garantissons|garantit|promettons|promet|"
    r"certifions|certifie)\b|\b(?:nous|on)\s+(?:vous|te)\s+assur(?:ons|e)\s+que\b|"
    r"\bnous\s+nous\s+engageons\b|\bon\s+s'engage\b"
)
_CERTAINTY = re.compile(
    r"\b(?:forcément|à\s+coup\s+sûr|sans\s+aucun\s+doute|assurément|quoi\s+qu'il\s+arrive|"
    r"100\s*%\s*(?:sûr|garanti|certain)e?s?|c'est\s+(?:certain|sûr|garanti)|"
    r"soyez\s+(?:sûr|certain|assuré|rassuré|tranquille)e?s?|(?:sans\s+)?aucun\s+risque|"
    r"en\s+toute\s+certitude|sans\s+le\s+moindre\s+doute)\b"
)
_PERSON = r"(?:vous|tu|votre|vos|ton|ta|tes)"
_ACCEPTED = r"(?:acceptée?s?|admise?s?|validée?s?|approuvée?s?|agréée?s?|accordée?s?)"
_ACCEPTANCE_PROMISE = re.compile(
    r"\b" + _PERSON + r"\b[^.;!?]{0,40}?\b(?:serez|seras|sera|seront|serait|seriez|êtes|es|est|"
    r"sont|allez\s+être|vas\s+être|va\s+être|vont\s+être)\b(?:\s+\w+){0,2}?\s+" + _ACCEPTED + r"\b|"
    r"\b(?:ne|n')\s*(?:vous|te)\s+(?:\w+\s+)?refuser\w*|"
    r"\b" + _PERSON + r"\b[^.;!?]{0,40}?\bne\s+(?:serez|sera|seront|serait)\s+(?:pas|jamais)\s+"
    r"refusée?s?|\baucun\s+(?:risque\s+de\s+)?refus\b|\bpas\s+de\s+refus\b|"
    r"\bacceptation\s+(?:garantie|assurée|certaine|automatique)\b|"
    r"\b(?:votre|ton|ta)\s+(?:sinistre|dossier|demande|réclamation)\s+(?:sera|va\s+être)\s+"
    r"(?:\w+\s+)?(?:indemnisée?|remboursée?|couverte?|réglée?|payée?|pris\s+en\s+charge)\b"
)
_CONDITION = re.compile(r"\b(?:si|s'|lorsque|quand|dès\s+que|une\s+fois\s+que|après\s+que)\s*$")
_PRICE_NOUN = r"(?:cotisations?|primes?|tarifs?|prix|mensualités?|échéances?|coûts?|abonnements?)"
_PERSONAL_PRICE = re.compile(
    r"\b(?:vous|tu)\s+(?:paierez|payerez|paieriez|payeriez|paieras|payeras|allez\s+payer|"
    r"aurez\s+à\s+payer|devrez\s+payer|réglerez|débourserez|serez\s+prélevée?s?|"
    r"serez\s+facturée?s?|toucherez|percevrez|recevrez|obtiendrez)\b|"
    r"\b(?:votre|vos|ta|tes|ton)\s+" + _PRICE_NOUN + r"\b|"
    r"\b(?:ça|cela|il|elle|ce\s+contrat)\s+(?:vous|te)\s+(?:coûtera|coûterait|coûte|reviendra|"
    r"reviendrait|revient)\b|"
    r"\b(?:dans\s+votre\s+cas|pour\s+vous|en\s+ce\s+qui\s+vous\s+concerne|à\s+votre\s+âge|"
    r"pour\s+(?:votre|vos|ton|ta|tes)\s+[\w-]+)\b"
)
_PRICE_WITHOUT_FIGURE = re.compile(
    r"\b(?:votre|vos|ta|ton)\s+" + _PRICE_NOUN + r"\s+(?:n'augmentera|ne\s+changera|"
    r"restera|sera\s+(?:toujours\s+)?(?:bloquée?|fixe|gelée?|la\s+moins\s+chère|moins\s+chère)|"
    r"baissera|diminuera)|\b(?:vous|tu)\s+(?:paierez|payerez|paieras)\s+moins\b"
)
_CEILING = re.compile(
    r"(?:jusqu'à|jusqu'a|limite\s+de|maximum|max\.?|plafond\w*|plafonnée?s?\s+à|au\s+plus|"
    r"n'excède|ne\s+dépasse)\s*(?:de\s+|d'|à\s+)?$"
)
_FLOOR = re.compile(
    r"(?:à\s+partir\s+de|dès|minimum|au\s+moins|plancher|minimale?|commencent?\s+à|"
    r"démarrent?\s+à|débutent?\s+à)\s*(?:de\s+)?$"
)
_APPROXIMATE = re.compile(r"(?:environ|autour\s+de|près\s+de|approximativement|moyenne\s+de)\s*$")
_EXAMPLE = re.compile(r"\b(?:exemples?|indicati(?:f|ve)|illustration|simulation|à\s+titre\s+d)")
# An amount in euros, or a rate (a price may be a percentage of the sum borrowed).
_AMOUNT = re.compile(
    r"(\d{1,3}(?:[ .]\d{3})+(?:,\d+)?|\d+(?:,\d+)?)\s*(€|euros?\b|eur\b|%)", re.IGNORECASE
)


def _qualifier(text: str, start: int, end: int) -> str:
    """How a text gives the amount at [start, end): a ceiling, a floor, an approximation, an
    example, a range or as such."""
    before = text[max(0, start - 30) : start]
    after = text[end : end + 20]
    if _CEILING.search(before) or re.match(r"\s*(?:maximum|au\s+plus|max)\b", after):
        return "plafond"
    if _FLOOR.search(before) or re.match(r"\s*(?:minimum|au\s+moins)\b", after):
        return "à partir de"
    if _APPROXIMATE.search(before) or re.match(r"\s*environ\b", after):
        return "environ"
    if re.search(r"\b(?:entre|de)\s*$", before) and re.match(r"[^.;]{0,12}\b(?:et|à)\s+\d", after):
        return "fourchette"
    return "tel quel"


def _amounts(text: str) -> list[tuple[str, str]]:
    """(value, qualifier) of every amount in euros of a normalised text."""
    found = []
    for match in _AMOUNT.finditer(text):
        value = re.sub(r"[ .]", "", match.group(1)) + ("%" if match.group(2) == "%" else "€")
        found.append((value, _qualifier(text, match.start(), match.end())))
    return found


def _quoted_amounts(sentence: str, passages: Sequence[str]) -> bool:
    """Every amount of `sentence` is in the passages, given the same way (a ceiling as a
    ceiling), and not in an example."""
    amounts = _amounts(sentence)
    if not amounts:
        return False
    given: set[tuple[str, str]] = set()
    for passage in passages:
        for passage_sentence in split_paragraph(" ".join(passage.split())):
            text = _normalise(passage_sentence)
            if _EXAMPLE.search(text):
                continue
            given.update(_amounts(text))
    return all(amount in given for amount in amounts)


# --- The validator ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    accepted: bool
    score: float
    lexical_support: float
    passage_similarity: float | None
    question_similarity: float | None
    unsupported_numbers: tuple[str, ...]
    # Answer clauses the passages say the opposite of: "« answer » ≠ « passage »".
    contradictions: tuple[str, ...] = ()
    # Commitments the insurer would not sign, as quoted from the answer.
    commitments: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        reasons = []
        if self.unsupported_numbers:
            reasons.append("chiffres absents des extraits : " + ", ".join(self.unsupported_numbers))
        if self.contradictions:
            reasons.append("les extraits disent le contraire : " + " ; ".join(self.contradictions))
        if self.commitments:
            reasons.append(
                "engagement que l'assureur ne prend pas : " + " ; ".join(self.commitments)
            )
        if reasons:
            return " | ".join(reasons)
        return "" if self.accepted else f"score de validation trop bas ({self.score:.2f})"


class AnswerValidator:
    """Checks an answer against its question and passages: figures, support, polarity and
    commitments (see the module docstring)."""

    def __init__(
        self,
        embedder: Embedder | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        lexical_weight: float = 0.6,
        passage_weight: float = 0.3,
        question_weight: float = 0.1,
        check_polarity: bool = True,
        check_commitments: bool = True,
    ) -> None:
        self.embedder = embedder
        self.threshold = threshold
        self.lexical_weight = lexical_weight
        self.passage_weight = passage_weight
        self.question_weight = question_weight
        self.check_polarity = check_polarity
        self.check_commitments = check_commitments

    def validate(self, question: str, answer: str, passages: list[str]) -> Verdict:
        cleaned = _CITATION.sub(" ", answer)
        context = "\n".join(passages)
        # A figure must appear in the passages, and with its unit when it has one:
        # "30 jours" is not supported by a page that says "30 €" and "14 jours".
        missing_numbers = numbers_in(cleaned) - numbers_in(context)
        missing_quantities = {
            f"{value} {unit}"
            for value, unit in quantities_in(cleaned) - quantities_in(context)
            if value not in missing_numbers
        }
        unsupported = tuple(sorted(missing_numbers | missing_quantities))

        answer_terms = _terms(_tokens(cleaned))
        context_terms = _terms(_tokens(context))
        lexical = len(answer_terms & context_terms) / len(answer_terms) if answer_terms else 0.0

        passage_similarity: float | None = None
        question_similarity: float | None = None
        if self.embedder is not None and passages:
            answer_vector = self.embedder.embed_passages([cleaned])[0]
            passage_vectors = self.embedder.embed_passages(passages)
            question_vector = self.embedder.embed_queries([question])[0]
            passage_similarity = float(np.max(passage_vectors @ answer_vector))
            question_similarity = float(question_vector @ answer_vector)
            score = (
                self.lexical_weight * lexical
                + self.passage_weight * passage_similarity
                + self.question_weight * question_similarity
            ) / (self.lexical_weight + self.passage_weight + self.question_weight)
        else:
            score = lexical

        contradictions: tuple[str, ...] = ()
        commitments: tuple[str, ...] = ()
        if self.check_polarity or self.check_commitments:
            passage_clauses = [clause for passage in passages for clause in clauses(passage)]
            answer_clauses = clauses(cleaned)
            yes_no = _yes_no_clause(question, cleaned)
            if yes_no is not None:
                answer_clauses.append(yes_no)
            if self.check_polarity:
                contradictions = self._contradictions(answer_clauses, passage_clauses)
            if self.check_commitments:
                commitments = self._commitments(cleaned, passages, passage_clauses)

        accepted = (
            not unsupported
            and not contradictions
            and not commitments
            and bool(answer_terms)
            and score >= self.threshold
        )
        return Verdict(
            accepted=accepted,
            score=round(score, 4),
            lexical_support=round(lexical, 4),
            passage_similarity=passage_similarity,
            question_similarity=question_similarity,
            unsupported_numbers=unsupported,
            contradictions=contradictions,
            commitments=commitments,
        )

    @staticmethod
    def _contradictions(
        answer_clauses: Sequence[Clause], passage_clauses: Sequence[Clause]
    ) -> tuple[str, ...]:
        found: list[str] = []
        for clause in answer_clauses:
            if sum(not term.startswith("#") for term in clause.terms) < 2 or not clause.claims:
                continue  # "Depuis le 1er avril 2024 :", "S'il s'agit d'un contrat …": no claim
            if not clause.reliable:
                continue
            closest, coverage = _closest(clause, passage_clauses)
            if closest is None or coverage < CONTRADICTION_COVERAGE or not closest.reliable:
                continue
            if closest.negative != clause.negative:
                entry = f"« {_quote(clause.text)} » ≠ « {_quote(closest.text)} »"
                if entry not in found:
                    found.append(entry)
        return tuple(found)

    @staticmethod
    def _commitments(
        answer: str, passages: Sequence[str], passage_clauses: Sequence[Clause]
    ) -> tuple[str, ...]:
        context = _normalise("\n".join(passages))
        found: list[str] = []
        for line in answer.splitlines():
            for sentence in split_paragraph(line):
                text = _normalise(sentence)
                if _commitment_in(text, sentence, context, passages, passage_clauses):
                    found.append(f"« {_quote(sentence)} »")
        return tuple(found)


# What makes a statement a possibility rather than a certainty: "l'assureur peut accepter".
_MODAL = re.compile(
    r"\b(?:peut|peuvent|pourra|pourront|pourrait|pourraient|possibles?|éventuellement|"
    r"le\s+cas\s+échéant|selon|sous\s+réserve|après\s+(?:étude|examen|accord)|au\s+cas\s+par\s+cas)\b"
)


def _stated(sentence: str, passage_clauses: Sequence[Clause]) -> bool:
    """The passages state what the sentence says, with the same polarity and as firmly (a
    possibility in the passage is not a certainty in the answer)."""
    sentence_clauses = clauses(sentence)
    if not sentence_clauses:
        return False
    firm = not _MODAL.search(_normalise(sentence))
    for clause in sentence_clauses:
        if not clause.terms:
            continue
        closest, coverage = _closest(clause, passage_clauses)
        if closest is None or coverage < COMMITMENT_SUPPORT or closest.negative != clause.negative:
            return False
        if firm and _MODAL.search(_normalise(closest.text)):
            return False
    return True


def _commitment_in(
    text: str,
    sentence: str,
    context: str,
    passages: Sequence[str],
    passage_clauses: Sequence[Clause],
) -> bool:
    """Whether one sentence (normalised `text`) commits the insurer beyond its documents."""
    if _SPEAKER_PROMISE.search(text):
        return True
    certainty = _CERTAINTY.search(text)
    if certainty and certainty.group(0) not in context:
        return True
    promises = [*_INSURER_PROMISE.finditer(text), *_ACCEPTANCE_PROMISE.finditer(text)]
    # "Vous êtes couvert si votre dossier est accepté" states a condition, not a promise.
    promises = [
        m for m in promises if not _CONDITION.search(text[max(0, m.start() - 16) : m.start()])
    ]
    if promises and not _stated(sentence, passage_clauses):
        return True
    if _PRICE_WITHOUT_FIGURE.search(text) and not _stated(sentence, passage_clauses):
        return True
    if _PERSONAL_PRICE.search(text) and _AMOUNT.search(text):
        return not _quoted_amounts(text, passages)
    return False
