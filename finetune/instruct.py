"""Triplets → supervised examples in the Mistral instruct format the assistant runs with.

The prompt is exactly the one `knowledge.answering.AnswerService` sends at answer time
(`knowledge.prompts.build_prompt(..., "mistral_instruct")`: `[INST] instructions, passages,
question [/INST]`, after the BOS token that `finetune.lora.encode` and llama.cpp add), with the
triplet's context as the passage, so the fine-tuned model learns the format it will be asked in;
the completion is the reference answer, citing passage [1].
"""

from collections.abc import Callable, Sequence

from finetune.lora import Example
from finetune.records import Triplet
from knowledge.interfaces import Chunk, ScoredChunk
from knowledge.prompts import build_prompt


def triplet_example(
    triplet: Triplet, count_tokens: Callable[[str], int], budget_tokens: int
) -> Example:
    p = triplet.provenance
    chunk = Chunk(chunk_id=p.chunk_id, document=p.document, page=p.page, text=triplet.context)
    prompt, _ = build_prompt(
        triplet.question, [ScoredChunk(chunk, 1.0)], "mistral_instruct", count_tokens, budget_tokens
    )
    answer = triplet.answer.rstrip()
    return Example(prompt=prompt, completion=f"{answer} [1]")


def instruct_examples(
    triplets: Sequence[Triplet], count_tokens: Callable[[str], int], budget_tokens: int
) -> list[Example]:
    return [triplet_example(t, count_tokens, budget_tokens) for t in triplets]
