import pytest
from pydantic import ValidationError

from common.contact import EMAIL_MASK, PHONE_MASK, mask_contact_details
from tests.feedback.conftest import make_feedback

pytestmark = pytest.mark.unit


class TestFeedbackCreate:
    @pytest.mark.parametrize("rating", [0, 6, -1])
    def test_rating_outside_the_five_levels_is_refused(self, rating: int) -> None:
        with pytest.raises(ValidationError, match="rating"):
            make_feedback(rating=rating)

    def test_unknown_fields_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="extra"):
            make_feedback(admin=True)

    def test_an_answer_is_required(self) -> None:
        with pytest.raises(ValidationError, match="answer"):
            make_feedback(answer="")

    def test_oversized_question_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="question"):
            make_feedback(question="x" * 10_001)

    def test_control_characters_in_ids_are_refused(self) -> None:
        with pytest.raises(ValidationError, match="control characters"):
            make_feedback(message_id="abc\x00def")

    def test_contact_details_are_masked_before_storage(self) -> None:
        feedback = make_feedback(
            question="Rappelez-moi au 06 12 34 56 78 ou à jean.dupont@example.fr svp",
            answer="Un conseiller vous écrira à jean.dupont@example.fr.",
        )
        assert "06 12" not in feedback.question
        assert "jean.dupont" not in feedback.question + feedback.answer
        assert PHONE_MASK in feedback.question
        assert EMAIL_MASK in feedback.answer


class TestMasking:
    @pytest.mark.parametrize(
        "text",
        [
            "0612345678",
            "06.12.34.56.78",
            "+33 6 12 34 56 78",
            "+33 (0)6 12 34 56 78",
            "0033 1 23 45 67 89",
            "+44 20 7946 0958",
        ],
    )
    def test_phone_numbers_are_masked(self, text: str) -> None:
        assert mask_contact_details(f"mon numéro : {text}.") == f"mon numéro : {PHONE_MASK}."

    @pytest.mark.parametrize(
        "text",
        [
            "J'ai 42 ans et 2 enfants",
            "un budget de 1 500 € par mois",
            "prêt de 180000 € sur 20 ans",
        ],
    )
    def test_ages_amounts_and_durations_are_kept(self, text: str) -> None:
        assert mask_contact_details(text) == text


class TestSettings:
    def test_rasa_style_postgresql_urls_use_psycopg(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from feedback.settings import FeedbackSettings

        monkeypatch.setenv("ADVISOR_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
        assert FeedbackSettings(_env_file=None).database_url == (  # type: ignore[call-arg]
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )

    def test_an_unknown_database_is_refused_naming_the_variable(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from pydantic import ValidationError

        from feedback.settings import FeedbackSettings

        monkeypatch.setenv("ADVISOR_DATABASE_URL", "mysql://root@localhost/db")
        with pytest.raises(ValidationError, match="ADVISOR_DATABASE_URL"):
            FeedbackSettings(_env_file=None)  # type: ignore[call-arg]
