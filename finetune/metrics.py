"""Answer metrics: ROUGE-L (rouge-score), BERTScore (offline model), calibration.

ROUGE-L uses a French-aware tokenizer (rouge-score's default keeps [a-z0-9] only and would cut
"résiliation" in two). BERTScore runs the `bert-score` package on a local model directory only
(the multilingual E5 encoder converted offline): it is never given a hub name, so it cannot
download anything.
"""

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_TOKEN = re.compile(r"\w+", re.UNICODE)
_ATTRIBUTION = re.compile(r"^D'après « [^»]+ » \(page \d+\) : ")


def strip_attribution(answer: str) -> str:
    """The content of an extractive answer, without its "D'après « doc » (page n) :" opening."""
    return _ATTRIBUTION.sub("", answer).replace("« ", "").replace(" »", "")


class FrenchTokenizer:
    """Lower case, accents folded, word characters: what rouge-score compares."""

    def tokenize(self, text: str) -> list[str]:
        folded = "".join(
            c for c in unicodedata.normalize("NFD", text.lower()) if not unicodedata.combining(c)
        )
        return _TOKEN.findall(folded)


class RougeL:
    def __init__(self) -> None:
        from rouge_score import rouge_scorer  # type: ignore[import-untyped]

        self._scorer = rouge_scorer.RougeScorer(["rougeL"], tokenizer=FrenchTokenizer())

    def score(self, reference: str, candidate: str) -> float:
        return float(self._scorer.score(reference, candidate)["rougeL"].fmeasure)


class OfflineBertScore:
    """BERTScore F1 with a model read from a local directory (no hub access)."""

    def __init__(self, model_dir: Path, *, num_layers: int = 9, batch_size: int = 32) -> None:
        if not model_dir.is_dir():
            raise FileNotFoundError(f"BERTScore model directory not found: {model_dir}")
        self.model_dir = model_dir
        self.num_layers = num_layers
        self.batch_size = batch_size
        self._scorer: Any = None

    def warm_up(self) -> None:
        if self._scorer is None:
            from bert_score import BERTScorer  # type: ignore[import-untyped]

            self._scorer = BERTScorer(
                model_type=str(self.model_dir),
                num_layers=self.num_layers,
                batch_size=self.batch_size,
                device="cpu",
            )

    def f1(self, references: Sequence[str], candidates: Sequence[str]) -> list[float]:
        if not references:
            return []
        self.warm_up()
        _, _, f1 = self._scorer.score(list(candidates), list(references), verbose=False)
        return [float(v) for v in f1]


@dataclass(frozen=True)
class Calibration:
    """How well a confidence (the validator's score) predicts correctness."""

    count: int
    ece: float  # expected calibration error over equal-width bins
    brier: float
    bins: list[tuple[float, float, float, int]]  # (low, mean confidence, accuracy, count)


def calibration(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = 5
) -> Calibration:
    if not confidences:
        return Calibration(0, math.nan, math.nan, [])
    table: list[tuple[float, float, float, int]] = []
    ece = 0.0
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        members = [
            (c, ok)
            for c, ok in zip(confidences, correct, strict=True)
            if low <= min(max(c, 0.0), 1.0) < high or (b == bins - 1 and c >= 1.0)
        ]
        if not members:
            continue
        mean_confidence = sum(c for c, _ in members) / len(members)
        accuracy = sum(1 for _, ok in members if ok) / len(members)
        ece += len(members) / len(confidences) * abs(mean_confidence - accuracy)
        table.append((low, mean_confidence, accuracy, len(members)))
    brier = sum((c - float(ok)) ** 2 for c, ok in zip(confidences, correct, strict=True)) / len(
        confidences
    )
    return Calibration(len(confidences), ece, brier, table)


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]
