import pytest

from finetune.eval_data import load_robustness
from finetune.perturb import lower_case, paraphrase, reformulated, with_typos, without_accents

pytestmark = pytest.mark.unit

QUESTION = "Est-ce que le délai de carence s'applique après un accident ?"


class TestVariants:
    def test_typos_change_letters_but_keep_length_and_are_reproducible(self) -> None:
        typo = with_typos(QUESTION)
        assert typo != QUESTION
        assert len(typo) == len(QUESTION)
        assert sorted(typo) == sorted(QUESTION)
        assert with_typos(QUESTION) == typo

    def test_accents_are_removed(self) -> None:
        assert without_accents("Délai après l'échéance, ça ?") == "Delai apres l'echeance, ca ?"

    def test_lower_case(self) -> None:
        assert lower_case("Quel Délai ?") == "quel délai ?"

    def test_reformulation_keeps_the_content(self) -> None:
        reworded = reformulated(QUESTION)
        assert reworded != QUESTION
        assert "le délai de carence s'applique après un accident ?" in reworded
        assert not reworded.lower().startswith("est-ce que")


class TestWrittenParaphrases:
    def test_a_question_of_the_robustness_set_gets_its_written_paraphrase(self) -> None:
        item = load_robustness()[0]
        assert reformulated(item.question) == item.variants["paraphrase"]
        assert paraphrase(item.question) == item.variants["paraphrase"]

    def test_another_question_has_no_written_paraphrase(self) -> None:
        assert paraphrase(QUESTION) is None
