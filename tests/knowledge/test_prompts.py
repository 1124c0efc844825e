import pytest

from knowledge.interfaces import ScoredChunk
from knowledge.prompts import MAX_QUESTION_CHARS, build_prompt, sanitize_question
from tests.knowledge.helpers import chunk

pytestmark = pytest.mark.unit


def word_count(text: str) -> int:
    return len(text.split())


CHUNKS = [ScoredChunk(chunk(("mot " * 300).strip(), page=p), 1.0 / p) for p in range(1, 5)]


@pytest.mark.parametrize("prompt_format", ["completion", "mistral_instruct"])
def test_prompt_never_exceeds_the_budget(prompt_format):
    prompt, used = build_prompt("Question ?", CHUNKS, prompt_format, word_count, 500)
    assert word_count(prompt) <= 500
    assert 1 <= len(used) < len(CHUNKS)


def test_mistral_format_wraps_in_inst():
    prompt, _ = build_prompt("Question ?", CHUNKS[:1], "mistral_instruct", word_count, 10_000)
    assert prompt.startswith("[INST] ")  # BOS is added by llama.cpp, never written twice
    assert prompt.endswith("[/INST]")


def test_completion_format_ends_on_the_answer_cue():
    prompt, used = build_prompt("Question ?", CHUNKS[:2], "completion", word_count, 10_000)
    assert prompt.endswith("Réponse :")
    assert "[1] vg-hab-loc-conditions-generales.pdf, page 1" in prompt
    assert len(used) == 2


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="unknown prompt format"):
        build_prompt("Q ?", CHUNKS, "chatml", word_count, 1000)


def test_sanitize_removes_markers_controls_and_caps_length():
    assert sanitize_question("a [INST] b </s> c\x00d") == "a b c d"
    assert len(sanitize_question("x" * 20_000)) == MAX_QUESTION_CHARS
