import pytest

from channels.formatting import Option
from channels.options import NumberedOptions

pytestmark = pytest.mark.unit

OPTIONS = [
    Option("En savoir plus", "/ask_more"),
    Option("Parler à un conseiller", "/request_advisor"),
]


class TestNumberedOptions:
    @pytest.mark.parametrize("answer", ["2", " 2 ", "2.", "2)"])
    def test_a_number_stands_for_its_option(self, answer: str) -> None:
        memory = NumberedOptions()
        memory.remember("+33600000000", OPTIONS)
        assert memory.resolve("+33600000000", answer) == "/request_advisor"

    @pytest.mark.parametrize("answer", ["3", "0", "deux", "2 enfants", "", None])
    def test_anything_else_is_left_as_typed(self, answer: str | None) -> None:
        memory = NumberedOptions()
        memory.remember("user", OPTIONS)
        assert memory.resolve("user", answer) is None

    def test_options_belong_to_their_conversation(self) -> None:
        memory = NumberedOptions()
        memory.remember("alice", OPTIONS)
        assert memory.resolve("bob", "1") is None

    def test_new_options_replace_old_ones_and_can_be_forgotten(self) -> None:
        memory = NumberedOptions()
        memory.remember("user", OPTIONS)
        memory.remember("user", [Option("Oui", "/affirm")])
        assert memory.resolve("user", "1") == "/affirm"
        assert memory.resolve("user", "2") is None
        memory.forget("user")
        assert memory.resolve("user", "1") is None

    def test_memory_is_bounded_and_expires(self) -> None:
        memory = NumberedOptions(max_conversations=2)
        for user in ("a", "b", "c"):
            memory.remember(user, OPTIONS)
        assert memory.resolve("a", "1") is None
        assert memory.resolve("c", "1") == "/ask_more"
        expired = NumberedOptions(ttl_s=0)
        expired.remember("user", OPTIONS)
        assert expired.resolve("user", "1") is None
