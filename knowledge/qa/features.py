"""From (question, passage) text to the reader's token windows, and from its logits back to spans.

A passage longer than a window is read in overlapping windows (`stride` tokens shared). Training
labels each window with the answer's first and last token, or with the first token (`<s>`,
"no answer here") when the answer is not wholly inside it. Decoding scores every span of at most
`max_answer_tokens` tokens of the passage by start logit + end logit.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

MAX_ANSWER_TOKENS = 48


@dataclass(frozen=True)
class Window:
    """One window of one passage: its tokens, and for each token its characters in the passage
    (None for the question and the special tokens)."""

    passage_index: int
    input_ids: list[int]
    offsets: list[tuple[int, int] | None]
    start_label: int = 0
    end_label: int = 0


@dataclass(frozen=True)
class SpanCandidate:
    passage_index: int
    start_char: int
    end_char: int
    score: float  # start logit + end logit
    null_score: float  # the window's "no answer" score (start and end on <s>)


def load_tokenizer(model_dir: Path) -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)


# Tokens a passage keeps beside the longest question (the question's start is cut beyond it).
MIN_PASSAGE_TOKENS = 32
# [CLS] question [SEP] [SEP] passage [SEP]: the pair encodings' special tokens.
PAIR_SPECIAL_TOKENS = 4


def question_tail(tokenizer: Any, question: str, limit: int) -> str:
    """`question` itself, or its last `limit` tokens when it is longer: a person who tells a long
    story asks at its end, and a question longer than the encoder's window would make the
    tokenizer refuse the pair (it can only cut the passage)."""
    offsets = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)[
        "offset_mapping"
    ]
    if len(offsets) <= limit:
        return question
    return question[int(offsets[-max(1, limit)][0]) :].strip()


def windows(
    tokenizer: Any,
    question: str,
    passages: Sequence[str],
    max_length: int,
    stride: int,
    answers: Sequence[tuple[int, int] | None] | None = None,
) -> list[Window]:
    """The windows of every passage for one question; `answers` (character start, end of the
    answer in each passage, or None) labels them for training."""
    result: list[Window] = []
    if not passages:
        return result
    # Each window must keep more passage tokens than the stride it moves by.
    question = question_tail(
        tokenizer, question, max_length - stride - PAIR_SPECIAL_TOKENS - MIN_PASSAGE_TOKENS
    )
    encoded = tokenizer(
        [question] * len(passages),
        list(passages),
        truncation="only_second",
        max_length=max_length,
        stride=stride,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    for row, input_ids in enumerate(encoded["input_ids"]):
        passage_index = int(encoded["overflow_to_sample_mapping"][row])
        sequence_ids = encoded.sequence_ids(row)
        offsets: list[tuple[int, int] | None] = [
            (int(span[0]), int(span[1])) if sequence_ids[i] == 1 else None
            for i, span in enumerate(encoded["offset_mapping"][row])
        ]
        start_label = end_label = 0
        answer = answers[passage_index] if answers is not None else None
        if answer is not None:
            start_label, end_label = _label(offsets, answer)
        result.append(Window(passage_index, list(input_ids), offsets, start_label, end_label))
    return result


def _label(offsets: Sequence[tuple[int, int] | None], answer: tuple[int, int]) -> tuple[int, int]:
    """First and last token of the answer when the window holds all of it, else (0, 0)."""
    start_char, end_char = answer
    inside = [i for i, span in enumerate(offsets) if span is not None]
    if not inside:
        return 0, 0
    first, last = offsets[inside[0]], offsets[inside[-1]]
    if first is None or last is None or first[0] > start_char or last[1] < end_char:
        return 0, 0
    start = next(i for i in inside if (span := offsets[i]) is not None and span[1] > start_char)
    end = next(
        i for i in reversed(inside) if (span := offsets[i]) is not None and span[0] < end_char
    )
    return (start, end) if start <= end else (0, 0)


def batch(windows_: Sequence[Window], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) padded to the longest window."""
    width = max(len(w.input_ids) for w in windows_)
    ids = torch.full((len(windows_), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(windows_), width), dtype=torch.long)
    for row, window in enumerate(windows_):
        ids[row, : len(window.input_ids)] = torch.tensor(window.input_ids)
        mask[row, : len(window.input_ids)] = 1
    return ids, mask


def best_spans(
    windows_: Sequence[Window],
    start_logits: torch.Tensor,
    end_logits: torch.Tensor,
    *,
    max_answer_tokens: int = MAX_ANSWER_TOKENS,
    per_window: int = 5,
) -> list[SpanCandidate]:
    """The `per_window` best spans of every window (only passage tokens, end ≥ start)."""
    candidates: list[SpanCandidate] = []
    for row, window in enumerate(windows_):
        length = len(window.input_ids)
        start = start_logits[row, :length].float()
        end = end_logits[row, :length].float()
        null_score = float(start[0] + end[0])
        valid = torch.tensor([span is not None for span in window.offsets])
        scores = start[:, None] + end[None, :]
        allowed = valid[:, None] & valid[None, :]
        band = torch.ones(length, length, dtype=torch.bool).triu().tril(max_answer_tokens - 1)
        scores = scores.masked_fill(~(allowed & band), float("-inf"))
        flat = scores.flatten()
        count = min(per_window, int(torch.isfinite(flat).sum()))
        if count == 0:
            continue
        values, indices = flat.topk(count)
        for value, index in zip(values.tolist(), indices.tolist(), strict=True):
            i, j = divmod(int(index), length)
            first, last = window.offsets[i], window.offsets[j]
            if first is None or last is None:  # masked above; kept for the type checker
                continue
            candidates.append(
                SpanCandidate(window.passage_index, first[0], last[1], float(value), null_score)
            )
    return candidates
