"""Answer generation by an OpenAI-compatible LLM server (vLLM, llama.cpp's `llama_cpp.server`).

The server is called through LangChain's OpenAI integration (`langchain_openai.OpenAI`, the
completions endpoint `/v1/completions`): the prompt arrives already formatted by
`knowledge.prompts` (plain completion for the offline Gemma, `[INST] … [/INST]` for Mistral), so
no chat template must be applied over it. Same interface as
`knowledge.generation.LlamaCppGenerator` (`warm_up`, `count_tokens`, `generate`), plus:

- one time limit on the whole call, connection and first token included: the caller gets
  `GenerationTimeoutError` when it passes, whatever the server does;
- a bounded number of generations in flight: when they are all taken, the call fails at once
  with `GenerationBusyError` (no queue), and the caller falls back to the extractive answer;
- `stream_sentences`, which yields each complete sentence as soon as it has arrived, so that
  each can be checked before it is shown;
- `ping`, the readiness check of the action server (`actions/serving.py`).

Every error is a `GenerationError`; the caller turns it into the extractive answer.
"""

import logging
import math
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from langchain_core.callbacks import BaseCallbackHandler

from knowledge.errors import GenerationError, GenerationTimeoutError

logger = logging.getLogger(__name__)

# llama.cpp's server and vLLM check no key unless told to; the OpenAI client insists on one.
_NO_KEY = "not-needed"
_PING_TIMEOUT_S = 2.0
# Without the model's vocabulary, a token is counted for every 2 UTF-8 bytes: above the real count
# for 1206 of the 1208 500-character pieces of the corpus sources with Gemma's vocabulary (median
# 1.9 times it; only dense Markdown tables of figures come out under). Mistral's smaller
# vocabulary cuts French finer (not measured here): give it its GGUF as `tokenizer`. Counting
# high only leaves passages out of the prompt.
_BYTES_PER_TOKEN = 2


class GenerationBusyError(GenerationError):
    """Every generation slot is taken: the caller answers without the LLM rather than wait."""


@dataclass(frozen=True)
class _Piece:
    text: str
    finish_reason: str | None  # "stop" or "length" on the last piece, else None


# --------------------------------------------------------------------------- sentence splitting

# The end of a sentence: terminal punctuation, closing quotes or brackets (French spacing
# allowed: "pas. »"), then the passage citations the prompt asks for ("[2]", "[1, 3]"), followed
# by a space or the end of the text so far. A line break also ends a sentence.
_SENTENCE_END = re.compile(
    r"[.!?…]+(?:\s?[»”\"')\]])*(?:\s*\[\d+(?:\s*[,;–-]\s*\d+)*\])*(?=\s|$)|\n"
)
_LAST_WORD = re.compile(r"(\w+)\W*$")
# Words that a full stop follows without ending the sentence ("M. Durand", "art. 4", "p. 12").
_ABBREVIATIONS = frozenset(
    {"m", "mm", "mme", "mmes", "mlle", "dr", "me", "art", "cf", "p", "pp", "ex", "env", "n",
     "no", "vol", "chap", "al", "av", "bd", "st", "ste", "réf", "tél", "fig", "éd"}
)  # fmt: skip


class SentenceSplitter:
    """Cuts streamed text into complete sentences: `feed` the pieces as they arrive, then
    `flush` what is left at the end.

    A sentence is returned only once the character after its end has arrived, so that "M.
    Durand", "3. » et", "jours. [2]" or "1.5" are not cut too early.
    """

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        self._buffer += text
        return self._cut(final=False)

    def flush(self) -> str:
        """The text after the last complete sentence (the whole of it when the end has come)."""
        sentences = self._cut(final=True)
        rest = " ".join([*sentences, self._buffer.strip()]).strip()
        self._buffer = ""
        return rest

    def _cut(self, final: bool) -> list[str]:
        sentences: list[str] = []
        while (end := self._next_end(final)) is not None:
            sentence = " ".join(self._buffer[:end].split())
            self._buffer = self._buffer[end:]
            if sentence:
                sentences.append(sentence)
        return sentences

    def _next_end(self, final: bool) -> int | None:
        for match in _SENTENCE_END.finditer(self._buffer):
            end = match.end()
            if match.group() == "\n":
                return end
            following = self._buffer[end:].lstrip()
            if not following:
                # The next piece may continue the sentence or bring its citation.
                return end if final else None
            if following[0] == "[" and "]" not in following and not final:
                return None  # a citation still arriving
            if following[0].islower():
                continue  # "etc. et", "env. deux"
            if match.group() == "." and self._abbreviation_before(match.start()):
                continue
            return end
        return None

    def _abbreviation_before(self, position: int) -> bool:
        word = _LAST_WORD.search(self._buffer[:position])
        return word is not None and word.end() == position and word[1].lower() in _ABBREVIATIONS


# --------------------------------------------------------------------------------- generator


class OpenAICompatibleGenerator:
    """An LLM behind an OpenAI-compatible HTTP API, called through `langchain_openai.OpenAI`.

    `base_url`: the API root, e.g. `http://llm-server:8080/v1`. `model`: the served model's
    name (vLLM checks it; llama.cpp's server answers with its model whatever the name).
    `n_ctx`: the server's context window in tokens (the prompt is cut to fit it).
    `max_concurrent`: generations in flight from this process at most; keep it at or below
    what the server runs in parallel (1 for llama.cpp's server, which interrupts a stream when
    another request arrives; vLLM batches many). `tokenizer`: a GGUF path or the offline alias
    whose vocabulary counts the prompt's tokens exactly in this process; without it,
    `count_tokens` over-estimates from the text's length (2 bytes a token).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        n_ctx: int = 2048,
        max_tokens: int = 120,
        max_concurrent: int = 1,
        tokenizer: str | None = None,
        stop: tuple[str, ...] = ("\nQuestion", "\n\n", "[INST]"),
        temperature: float = 0.0,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.max_concurrent = max_concurrent
        self.tokenizer = tokenizer
        self.stop = list(stop)
        self.temperature = temperature
        self._api_key = api_key or _NO_KEY
        self._slots = threading.BoundedSemaphore(max_concurrent)
        self._in_flight = 0
        self._count_lock = threading.Lock()
        self._tokenizer_lock = threading.Lock()
        self._setup_lock = threading.Lock()
        self._llm: Any = None
        self._vocabulary: Any = None

    # ------------------------------------------------------------------ set-up and health

    def warm_up(self) -> None:
        """Builds the client (and loads the tokenizer's vocabulary); contacts no server, so that
        the process starts while the LLM server is down (`ping` reports it)."""
        with self._setup_lock:
            if self._llm is None:
                from langchain_openai import OpenAI
                from pydantic import SecretStr

                self._llm = OpenAI(
                    base_url=self.base_url,
                    api_key=SecretStr(self._api_key),
                    model=self.model,
                    max_tokens=self.max_tokens,
                    temperature=self.temperature,
                    max_retries=0,  # a retry would spend the caller's time limit
                )
            if self.tokenizer and self._vocabulary is None:
                self._vocabulary = _load_vocabulary(self.tokenizer)

    def ping(self) -> None:
        """Raises GenerationError unless the server lists its models within two seconds."""
        headers = {"Authorization": f"Bearer {self._api_key}"}
        try:
            response = httpx.get(
                f"{self.base_url}/models", headers=headers, timeout=_PING_TIMEOUT_S
            )
            response.raise_for_status()
        except httpx.HTTPError as error:
            raise GenerationError(f"LLM server {self.base_url} unavailable: {error}") from error

    @property
    def in_flight(self) -> int:
        """Generations running now (a timed-out one counts until its request has ended)."""
        return self._in_flight

    def count_tokens(self, text: str) -> int:
        self.warm_up()
        if self._vocabulary is None:
            return math.ceil(len(text.encode("utf-8")) / _BYTES_PER_TOKEN)
        with self._tokenizer_lock:
            return len(self._vocabulary.tokenize(text.encode("utf-8"), add_bos=True))

    # ---------------------------------------------------------------------------- generation

    def generate(self, prompt: str, deadline_s: float) -> str:
        """The whole completion, or GenerationTimeoutError once `deadline_s` has passed."""
        with _closing(self._pieces(prompt, deadline_s)) as pieces:
            return "".join(piece.text for piece in pieces).strip()

    def stream_sentences(self, prompt: str, deadline_s: float) -> Iterator[str]:
        """Each complete sentence of the completion as soon as it has arrived.

        The time limit covers the whole stream, the time the caller spends between sentences
        included: past it, the next step raises GenerationTimeoutError (the sentences already
        given stay given). A last fragment cut by the token limit is not a sentence and is
        dropped; a last sentence without final punctuation is given when the model stopped.
        """
        splitter = SentenceSplitter()
        finish_reason: str | None = None
        with _closing(self._pieces(prompt, deadline_s)) as pieces:
            for piece in pieces:
                finish_reason = piece.finish_reason or finish_reason
                yield from splitter.feed(piece.text)
        rest = splitter.flush()
        if rest and finish_reason != "length":
            yield rest
        elif rest:
            logger.info("LLM answer cut by the token limit: its last fragment is not shown")

    def _pieces(self, prompt: str, deadline_s: float) -> Iterator[_Piece]:
        """The completion's pieces as they arrive, read from a worker thread so that the time
        limit holds even while the server sends nothing."""
        self.warm_up()
        started = time.monotonic()
        deadline = started + deadline_s
        if not self._slots.acquire(blocking=False):
            raise GenerationBusyError(f"the {self.max_concurrent} LLM generation slot(s) are taken")
        with self._count_lock:
            self._in_flight += 1
        events: queue.SimpleQueue[_Piece | Exception | None] = queue.SimpleQueue()
        cancelled = threading.Event()
        worker = threading.Thread(
            target=self._read_stream,
            args=(prompt, deadline, events, cancelled),
            name="llm-stream",
            daemon=True,
        )
        try:
            worker.start()
        except RuntimeError as error:
            self._release_slot()
            raise GenerationError(f"cannot start the LLM request: {error}") from error
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise GenerationTimeoutError(
                        f"LLM server {self.base_url} exceeded {deadline_s:.1f} s"
                    )
                try:
                    event = events.get(timeout=remaining)
                except queue.Empty:
                    raise GenerationTimeoutError(
                        f"LLM server {self.base_url} exceeded {deadline_s:.1f} s"
                    ) from None
                if event is None:
                    return
                if isinstance(event, Exception):
                    raise GenerationError(
                        f"LLM server {self.base_url} failed: {_describe(event)}"
                    ) from event
                yield event
        finally:
            cancelled.set()  # the worker stops at its next piece or when its request times out

    def _read_stream(
        self,
        prompt: str,
        deadline: float,
        events: "queue.SimpleQueue[_Piece | Exception | None]",
        cancelled: threading.Event,
    ) -> None:
        """Worker thread: one streamed request, pieces to `events`, then None or the error.

        Its HTTP timeout is the time left, so it never outlives the caller's limit by more than
        one piece; closing the stream closes the connection, which stops the server."""
        finish = _FinishReason()
        try:
            timeout = max(deadline - time.monotonic(), 0.001)
            stream = self._llm.stream(
                prompt, config={"callbacks": [finish]}, stop=self.stop, timeout=timeout
            )
            try:
                for text in stream:
                    if cancelled.is_set() or time.monotonic() > deadline:
                        return
                    events.put(_Piece(str(text), finish.take()))
            finally:
                stream.close()
            events.put(None)
        except Exception as error:  # handed to the caller, who raises GenerationError
            events.put(error)
        finally:
            self._release_slot()

    def _release_slot(self) -> None:
        with self._count_lock:
            self._in_flight -= 1
        self._slots.release()


class _FinishReason(BaseCallbackHandler):
    """Keeps the finish reason the server sends with the last piece ("stop" or "length")."""

    def __init__(self) -> None:
        self._reason: str | None = None

    def on_llm_new_token(self, *args: Any, **kwargs: Any) -> None:
        info = getattr(kwargs.get("chunk"), "generation_info", None) or {}
        if info.get("finish_reason"):
            self._reason = str(info["finish_reason"])

    def take(self) -> str | None:
        reason, self._reason = self._reason, None
        return reason


@contextmanager
def _closing(pieces: Iterator[_Piece]) -> Iterator[Iterator[_Piece]]:
    """Closes the piece generator however its reader stops, which frees the worker at once."""
    try:
        yield pieces
    finally:
        close = getattr(pieces, "close", None)
        if callable(close):
            close()


def _describe(error: BaseException) -> str:
    """The OpenAI client's errors say little on their own ("Connection error.")."""
    cause = error.__cause__ or error.__context__
    text = str(error) or type(error).__name__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text} ({cause})"
    return text


def _load_vocabulary(tokenizer: str) -> Any:
    """A llama.cpp model holding only the vocabulary of a GGUF file (no weights: fast, small)."""
    from llama_cpp import Llama

    from knowledge.generation import resolve_model_path

    path = resolve_model_path(tokenizer)
    try:
        return Llama(model_path=str(path), vocab_only=True, verbose=False)
    except Exception as error:  # llama.cpp raises plain ValueError/RuntimeError
        raise GenerationError(f"cannot load the tokenizer of {path}: {error}") from error
