"""Test doubles of the fine-tuning package: an in-process LLM that returns scripted text."""

from collections.abc import Callable

from knowledge.errors import GenerationError


class ScriptedLLM:
    """A `Generator` whose reply is computed from the prompt; it can fail on purpose."""

    def __init__(self, reply: Callable[[str], str] | str, n_ctx: int = 4096) -> None:
        self.reply = reply
        self.n_ctx = n_ctx
        self.prompts: list[str] = []
        self.fail_on: set[int] = set()  # call numbers (1-based) that raise GenerationError
        self.interrupt_on: int | None = None  # call number that raises KeyboardInterrupt

    def warm_up(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, prompt: str, deadline_s: float) -> str:
        self.prompts.append(prompt)
        call = len(self.prompts)
        if call == self.interrupt_on:
            raise KeyboardInterrupt
        if call in self.fail_on:
            raise GenerationError("model crashed")
        return self.reply(prompt) if callable(self.reply) else self.reply


def passage_of(prompt: str) -> str:
    """The passage a generation prompt asks about (after its last 'Extrait :')."""
    return prompt.rsplit("Extrait :\n", 1)[1].split("\n\nJSON", 1)[0]
