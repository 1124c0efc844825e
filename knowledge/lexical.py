"""French lexical analysis for BM25: words, elisions, stop words, Snowball stemming.

Both stores index the same analysed text, so a lexical search means the same thing whichever
store runs it: the embedded store feeds the tokens to bm25s, the Weaviate store keeps them,
joined by spaces, in a whitespace-tokenised property and searches that property.
"""

import re
import unicodedata

import Stemmer

# Function words of French: articles, pronouns, prepositions, conjunctions and the forms of
# "être" and "avoir". Content words that matter in insurance ("sans", "hors", "non", "plus",
# "moins", "tout") are kept on purpose: "sans franchise" and "franchise" are different questions.
FRENCH_STOP_WORDS = frozenset(
    """
    a à ai aie aient aies ait alors as au aucun aucune aura aurai auraient aurais aurait auras
    aurez auriez aurions aurons auront aussi autre aux avaient avais avait avant avec avez aviez
    avions avoir avons ayant ayez ayons c ça car ce ceci cela celle celles celui cependant ces
    cet cette ceux chaque chez ci comme comment d dans de des donc dont du e elle elles en encore
    entre es est et étaient étais était étant été êtes étiez étions être eu eue eues eûmes eurent
    eus eusse eussent eusses eussiez eussions eut eût eûtes eux fûmes furent fus fusse fussent
    fusses fussiez fussions fut fût fûtes ici il ils j je jusqu l la laquelle le lequel les
    lesquelles lesquels leur leurs lorsqu lorsque lui m ma mais me même mêmes mes moi mon n ne ni
    nos notre nous on ont ou où par parce pour pourquoi puis puisqu puisque qu quand que quel
    quelle quelles quels qui quoi s sa se sera serai seraient serais serait seras serez seriez
    serions serons seront ses si soi soient sois soit sommes son sont soyez soyons suis sur t ta
    te tes toi ton tu un une unes uns vos votre vôtre vous y
    """.split()  # noqa: SIM905 (a word list reads better as text)
)

_ELISION = re.compile(r"\b(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu|quoiqu)['’]", re.IGNORECASE)
_WORD = re.compile(r"\w+", re.UNICODE)


def fold_accents(text: str) -> str:
    """ "Résiliation" → "Resiliation": users often type without accents."""
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class FrenchAnalyzer:
    """Turns a text into BM25 terms: lower case, elisions and stop words removed, stemmed.

    Accents are folded after stemming (the Snowball stemmer needs them to find suffixes), so
    "résiliation" and "resiliation" give the same term.
    """

    def __init__(self, *, stem: bool = True, fold: bool = True) -> None:
        self._stemmer = Stemmer.Stemmer("french") if stem else None
        self._fold = fold

    def words(self, text: str) -> list[str]:
        """The words that carry meaning, lower case, before stemming."""
        text = _ELISION.sub(" ", unicodedata.normalize("NFC", text).lower())
        return [
            word
            for word in _WORD.findall(text)
            if word not in FRENCH_STOP_WORDS and (len(word) > 1 or word.isdigit())
        ]

    def terms(self, text: str) -> list[str]:
        """The indexed terms of `text`, in order, repeated as often as they occur."""
        words = self.words(text)
        if self._stemmer is not None:
            words = self._stemmer.stemWords(words)
        if self._fold:
            words = [fold_accents(word) for word in words]
        return words
