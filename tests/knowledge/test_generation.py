"""The real offline LLM (Gemma 3 270M GGUF through LangChain and llama-cpp-python)."""

import pytest

from knowledge.answering import AnswerService
from knowledge.errors import GenerationError, GenerationTimeoutError
from knowledge.generation import LlamaCppGenerator
from knowledge.validation import AnswerValidator
from tests.knowledge.helpers import FixedRetriever, chunk

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def generator():
    tokens: list[str] = []
    llm = LlamaCppGenerator(n_ctx=1024, max_tokens=48, n_threads=2, on_token=tokens.append)
    llm.warm_up()
    llm.streamed = tokens  # type: ignore[attr-defined]
    return llm


def test_streams_tokens_and_answers_from_the_passage(generator):
    passage = chunk(
        "Article 12 - Renonciation. Vous pouvez renoncer au contrat dans un délai de 14 jours "
        "calendaires à compter de sa conclusion.",
        page=5,
    )
    service = AnswerService(FixedRetriever([passage]), AnswerValidator(), generator=generator)
    answer = service.answer("Quel est le délai de renonciation ?")
    assert generator.streamed, "no token was streamed"
    assert answer.mode in {"generative", "extractive"}
    assert answer.sources[0].page == 5
    # Whatever the small model wrote, what reaches the user is supported by the passage.
    assert "14" in answer.text


def test_time_limit_stops_generation(generator):
    with pytest.raises(GenerationTimeoutError):
        generator.generate("Écris une très longue histoire sur la mer :", deadline_s=0.0)


def test_missing_model_file_is_a_clear_error(tmp_path):
    llm = LlamaCppGenerator(model=str(tmp_path / "absent.gguf"))
    with pytest.raises(GenerationError, match="GGUF model not found"):
        llm.warm_up()


def test_prompt_fits_the_window(generator):
    count = generator.count_tokens("Bonjour, quel est le délai de renonciation ?")
    assert 5 < count < 40
