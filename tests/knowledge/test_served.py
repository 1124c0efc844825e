"""The served-LLM generator (knowledge/served.py) against a real `python -m llama_cpp.server`
running the offline Gemma 3 270M on loopback, plus its sentence splitter.

Timing assertions check that limits are enforced (a call ends near its deadline, a full pool
answers at once), not how fast the model is.
"""

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from knowledge.answering import AnswerService
from knowledge.errors import GenerationError, GenerationTimeoutError
from knowledge.served import GenerationBusyError, OpenAICompatibleGenerator, SentenceSplitter
from knowledge.validation import AnswerValidator
from tests.knowledge.helpers import FixedRetriever, chunk
from tests.llm_server import llama_server, offline_model_path
from tests.services import free_port

# A prompt the small model continues with short sentences (greedy decoding: same text each run).
# The server keeps its prefix in cache between tests, so reusing it keeps them quick.
PROMPT = "Lundi, il pleut. Mardi, il neige. Mercredi,"
# How late a call may end after its deadline (thread hand-over on a loaded 2-core machine).
MARGIN_S = 0.5


def _wait_until(condition: Callable[[], bool], timeout_s: float) -> bool:
    limit = time.monotonic() + timeout_s
    while time.monotonic() < limit:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture(scope="module")
def model_path() -> Path:
    return offline_model_path()


@pytest.fixture(scope="module")
def server(model_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with llama_server(model_path, log) as (base_url, _):
        yield base_url


def served(base_url: str, **options: object) -> OpenAICompatibleGenerator:
    settings: dict[str, object] = {"n_ctx": 1024, "max_tokens": 20, "max_concurrent": 1}
    settings.update(options)
    return OpenAICompatibleGenerator(base_url, "gemma3-270m", **settings)  # type: ignore[arg-type]


@contextlib.contextmanager
def silent_server() -> Iterator[str]:
    """A TCP server that accepts connections and never answers (a hung LLM server)."""
    listener = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(listener.accept()[0])

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/v1"
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        listener.close()


# ------------------------------------------------------------------------------ unit: splitter


@pytest.mark.unit
class TestSentenceSplitter:
    def test_gives_a_sentence_once_the_next_one_starts(self) -> None:
        splitter = SentenceSplitter()
        assert splitter.feed("Le délai de carence est de 3 jours.") == []
        assert splitter.feed(" ") == []
        assert splitter.feed("Pour la maladie") == ["Le délai de carence est de 3 jours."]
        assert splitter.flush() == "Pour la maladie"

    def test_keeps_abbreviations_decimals_citations_and_quotes_inside(self) -> None:
        text = (
            "Selon l'art. 4, le taux est de 1.5 % par an [2]. Voir p. 12 ou M. Durand ! "
            "Il dit « c'est couvert. » Ensuite etc. et la suite [1, 3]. Fin"
        )
        splitter = SentenceSplitter()
        sentences = splitter.feed(text)
        assert sentences == [
            "Selon l'art. 4, le taux est de 1.5 % par an [2].",
            "Voir p. 12 ou M. Durand !",
            "Il dit « c'est couvert. »",
            "Ensuite etc. et la suite [1, 3].",
        ]
        assert splitter.flush() == "Fin"

    def test_pieces_of_any_size_give_the_same_sentences(self) -> None:
        text = "Première phrase [1]. Deuxième ? Oui… Troisième ligne\nQuatrième. « Cinq. » Six"
        whole = SentenceSplitter()
        expected = [*whole.feed(text), whole.flush()]
        for size in (1, 2, 3, 7):
            splitter = SentenceSplitter()
            got: list[str] = []
            for start in range(0, len(text), size):
                got.extend(splitter.feed(text[start : start + size]))
            assert [*got, splitter.flush()] == expected, size
        assert expected == [
            "Première phrase [1].", "Deuxième ?", "Oui…", "Troisième ligne", "Quatrième.",
            "« Cinq. »", "Six",
        ]  # fmt: skip

    def test_waits_for_a_citation_still_arriving(self) -> None:
        splitter = SentenceSplitter()
        assert splitter.feed("Le vol est couvert. [") == []
        assert splitter.feed("2] Le") == ["Le vol est couvert. [2]"]


@pytest.mark.unit
def test_counts_tokens_conservatively_without_a_tokenizer() -> None:
    generator = OpenAICompatibleGenerator("http://127.0.0.1:9/v1", "any")
    text = "Le délai de carence est de 45 jours pour la maladie."
    assert generator.count_tokens(text) >= len(text.split())
    assert generator.count_tokens(text * 2) > generator.count_tokens(text)


# ---------------------------------------------------------------- integration: no model needed


@pytest.mark.integration
class TestUnavailableServer:
    def test_hung_server_times_out_at_the_deadline(self) -> None:
        with silent_server() as base_url:
            generator = served(base_url)
            started = time.monotonic()
            with pytest.raises(GenerationTimeoutError):
                generator.generate(PROMPT, deadline_s=0.5)
            assert time.monotonic() - started < 0.5 + MARGIN_S
            # The request itself ends with its deadline: the slot comes back.
            assert _wait_until(lambda: generator.in_flight == 0, 2.0)
            with pytest.raises(GenerationTimeoutError):
                list(generator.stream_sentences(PROMPT, deadline_s=0.3))
            assert _wait_until(lambda: generator.in_flight == 0, 2.0)

    def test_stopped_server_falls_back_to_the_extractive_answer(self) -> None:
        generator = served(f"http://127.0.0.1:{free_port()}/v1")
        with pytest.raises(GenerationError):
            generator.ping()
        passage = chunk("Vous pouvez renoncer au contrat dans un délai de 14 jours.", page=5)
        service = AnswerService(FixedRetriever([passage]), AnswerValidator(), generator=generator)
        started = time.monotonic()
        answer = service.answer("Quel est le délai de renonciation ?")
        assert time.monotonic() - started < 5
        assert answer.mode == "extractive"
        assert "llm_failed" in answer.notes
        assert "14 jours" in answer.text


# ----------------------------------------------------------- integration: real llama_cpp.server


@pytest.mark.integration
@pytest.mark.slow
class TestLlamaCppServer:
    def test_streams_sentences_while_generating_and_matches_generate(self, server: str) -> None:
        generator = served(server, tokenizer="gemma3-270m")
        assert 0 < generator.count_tokens(PROMPT) < generator.count_tokens(PROMPT * 2)
        generator.ping()
        in_flight_at_sentence: list[int] = []
        sentences: list[str] = []
        for sentence in generator.stream_sentences(PROMPT, deadline_s=60):
            in_flight_at_sentence.append(generator.in_flight)
            sentences.append(sentence)
        assert len(sentences) >= 2, sentences
        # The first sentence came while the server was still generating the next ones.
        assert in_flight_at_sentence[0] == 1
        assert all(s[-1] in ".!?…»]" for s in sentences[:-1]), sentences
        text = generator.generate(PROMPT, deadline_s=60)
        assert " ".join(text.split()).startswith(" ".join(sentences)), (text, sentences)
        assert generator.in_flight == 0

    def test_deadline_covers_the_whole_call(self, server: str) -> None:
        generator = served(server, max_tokens=256, stop=())
        started = time.monotonic()
        with pytest.raises(GenerationTimeoutError):
            generator.generate(PROMPT, deadline_s=0.25)
        assert time.monotonic() - started < 0.25 + MARGIN_S
        # The abandoned request is closed, which frees the slot (and the server) soon after.
        assert _wait_until(lambda: generator.in_flight == 0, 5.0)

    def test_a_full_pool_refuses_at_once_without_disturbing_the_running_call(
        self, server: str
    ) -> None:
        generator = served(server, max_concurrent=1)
        first: list[str | BaseException] = []

        def run() -> None:
            try:
                first.append(generator.generate(PROMPT, deadline_s=60))
            except GenerationError as error:
                first.append(error)

        thread = threading.Thread(target=run)
        thread.start()
        assert _wait_until(lambda: generator.in_flight == 1, 5.0)
        started = time.monotonic()
        with pytest.raises(GenerationBusyError):
            generator.generate(PROMPT, deadline_s=60)
        assert time.monotonic() - started < MARGIN_S
        thread.join(timeout=60)
        assert len(first) == 1, first
        assert isinstance(first[0], str), first
        assert first[0]
        assert generator.in_flight == 0

    def test_server_stopped_mid_call_gives_a_clear_error_without_hanging(
        self, model_path: Path, tmp_path: Path
    ) -> None:
        with llama_server(model_path, tmp_path / "server.log") as (base_url, process):
            generator = served(base_url, max_tokens=256, stop=())
            outcome: list[BaseException | str] = []

            def run() -> None:
                try:
                    outcome.append(generator.generate(PROMPT, deadline_s=60))
                except GenerationError as error:
                    outcome.append(error)

            thread = threading.Thread(target=run)
            thread.start()
            assert _wait_until(lambda: generator.in_flight == 1, 5.0)
            time.sleep(0.3)  # the request reaches the server
            process.kill()
            stopped = time.monotonic()
            thread.join(timeout=10)
            assert time.monotonic() - stopped < 10, "the call hung after the server died"
            assert len(outcome) == 1, outcome
            assert isinstance(outcome[0], GenerationError), outcome
            assert not isinstance(outcome[0], GenerationTimeoutError)

            started = time.monotonic()
            with pytest.raises(GenerationError, match=r"127\.0\.0\.1"):
                generator.generate(PROMPT, deadline_s=60)
            assert time.monotonic() - started < 2
            with pytest.raises(GenerationError):
                generator.ping()


class TestSettingsChooseTheGenerator:
    """`build_answer_service` (knowledge/pipelines.py): a served model when its URL is set."""

    def test_a_base_url_selects_the_served_generator(self) -> None:
        from knowledge.pipelines import build_answer_service
        from knowledge.settings import KnowledgeSettings

        settings = KnowledgeSettings(
            _env_file=None,  # type: ignore[call-arg]
            llm_base_url="http://127.0.0.1:9/v1",
            llm_model="gemma3-270m",
            llm_max_concurrent=2,
        )
        service = build_answer_service(settings, retriever=None)  # type: ignore[arg-type]
        assert isinstance(service.generator, OpenAICompatibleGenerator)

    def test_no_model_means_no_generator(self) -> None:
        from knowledge.pipelines import build_answer_service
        from knowledge.settings import KnowledgeSettings

        settings = KnowledgeSettings(_env_file=None, llm_model="")  # type: ignore[call-arg]
        service = build_answer_service(settings, retriever=None)  # type: ignore[arg-type]
        assert service.generator is None
