"""Whether the retrieved passages answer the question at all, so that the assistant says the
documents do not hold the answer instead of quoting an unrelated sentence.

A logistic model over the signals of every answer, computed the same way when it is trained
(`knowledge/eval/abstention.py`) and when it serves (`AnswerService`):

- `sentence_overlap`: the best extracted sentence's share of the question's meaningful words
  (`knowledge.extractive`, the score that picks the sentence);
- `top_score`: the hybrid score of the first passage, which is highest when the lexical and the
  dense rankings agree on it (relative score fusion normalises each ranking over its candidates);
- `dense_similarity`: the highest cosine between the question and any passage it may be answered
  from (`StoreRetriever.similarity`), how close the documents come to it at all;
- `question_coverage`: the share of the question's meaningful words (distinct stemmed terms)
  found anywhere in the passages read: a near miss (a product's passages, found by its name,
  that never speak of the detail asked) leaves words uncovered;
- `unknown_share`: the share of them that no passage of the documents searched uses at all
  (`StoreRetriever.unknown_share`);
- `selector_score`: the sentence selector's score of the sentence it would show
  (`knowledge.rerank.reranker.SentenceSelector`), a trained reading of whether a sentence of the
  passages states what is asked. It separates the near miss (a product's passages that never
  state the detail asked) that the word counts above miss.

Two fits: with the selector's score (`model-selector.json`), used whenever the selector ran, and
without it (`model.json`), used when the selector is off, busy or failed. The first depends on
the selector's weights too: it is not used beside a selector other than the one it was fitted
with.

The signals depend on the vectors: a model fitted with another embedding model is not used,
and int8 vectors (a CPU without bfloat16) have their own fit, `model-int8.json`, because their
cosines run slightly differently.

The weights, the standardisation and the decision threshold are a small JSON artifact
(`knowledge/artifacts/abstention/model.json`) holding its own provenance (command, data hashes,
splits, metrics). Without it the service keeps its former rule: abstain when the best sentence
shares too few words with the question.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from knowledge.errors import KnowledgeError
from knowledge.extractive import Extract
from knowledge.interfaces import ScoredChunk
from knowledge.lexical import FrenchAnalyzer
from knowledge.settings import ABSTENTION_DIR

MODEL_FILE = "model.json"


def model_file(quantization: str, selector: bool = False) -> str:
    """The artifact's file name for vectors of this quantization ("none" or "int8"), with the
    selector's score among its signals or not."""
    name = "model-selector" if selector else "model"
    return f"{name}-int8.json" if quantization == "int8" else f"{name}.json"


FEATURES = (
    "sentence_overlap",
    "top_score",
    "dense_similarity",
    "question_coverage",
    "unknown_share",
)
SELECTOR_FEATURES = (*FEATURES, "selector_score")
_ANALYZER = FrenchAnalyzer()


def question_coverage(question: str, chunks: Sequence[ScoredChunk]) -> float:
    """The share of the question's distinct terms that the passages' texts hold."""
    asked = set(_ANALYZER.terms(question))
    if not asked:
        return 0.0
    read: set[str] = set()
    for item in chunks:
        read.update(_ANALYZER.terms(item.chunk.text))
    return len(asked & read) / len(asked)


def signals(
    question: str,
    chunks: Sequence[ScoredChunk],
    extract: Extract | None,
    similarity: float,
    unknown_share: float,
    selector_score: float | None = None,
) -> tuple[float, ...]:
    """The model's inputs for one answer, in the order of FEATURES, then `selector_score` when
    given (SELECTOR_FEATURES)."""
    more = () if selector_score is None else (float(selector_score),)
    if not chunks or extract is None:
        return (0.0, 0.0, similarity, 0.0, unknown_share, *more)
    return (
        float(extract.overlap),
        float(chunks[0].score),
        similarity,
        question_coverage(question, chunks),
        unknown_share,
        *more,
    )


@dataclass(frozen=True)
class AbstentionModel:
    """P(the passages answer) = sigmoid(bias + Σ weight × (signal − mean) / scale); the service
    abstains below `threshold`."""

    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]
    threshold: float
    features: tuple[str, ...] = FEATURES
    provenance: dict[str, Any] = field(default_factory=dict, compare=False)

    def probability(self, values: Sequence[float]) -> float:
        """The probability that the passages answer, from `signals`."""
        z = self.bias + sum(
            w * (v - m) / s
            for w, v, m, s in zip(self.weights, values, self.means, self.scales, strict=True)
        )
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    @property
    def embedding_model(self) -> str | None:
        """The embedding model of the store it was fitted on (its signals depend on it)."""
        store = self.provenance.get("data", {}).get("store", {})
        name = store.get("embedding_model") if isinstance(store, dict) else None
        return str(name) if name else None

    @property
    def selector_sha256(self) -> str | None:
        """The sha256 of the sentence selector's weights it was fitted with (selector fits)."""
        digest = self._selector().get("sha256")
        return str(digest) if digest else None

    @property
    def selector_quantization(self) -> str:
        """The quantization the sentence selector ran in when it was fitted (selector fits)."""
        return str(self._selector().get("quantization") or "none")

    @property
    def selector_candidates(self) -> int | None:
        """The sentences the selector read when it was fitted (selector fits); None: not
        recorded (fits before the setting existed)."""
        candidates = self._selector().get("candidates")
        return int(candidates) if candidates else None

    @property
    def reads_selector(self) -> bool:
        """Whether the selector's score is among its signals (SELECTOR_FEATURES)."""
        return self.features == SELECTOR_FEATURES

    def _selector(self) -> dict[str, Any]:
        selector = self.provenance.get("data", {}).get("selector", {})
        return selector if isinstance(selector, dict) else {}

    def answers(self, values: Sequence[float]) -> bool:
        return self.probability(values) >= self.threshold

    def save(self, directory: Path, quantization: str = "none") -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / model_file(quantization, self.reads_selector)
        data = asdict(self)
        path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(
        cls, directory: Path = ABSTENTION_DIR, quantization: str = "none", selector: bool = False
    ) -> AbstentionModel:
        """The model in `directory` for vectors of this quantization, with the selector's score
        or without; KnowledgeError naming the file when it is unusable."""
        path = directory / model_file(quantization, selector)
        expected = SELECTOR_FEATURES if selector else FEATURES
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            model = cls(
                weights=tuple(float(w) for w in data["weights"]),
                bias=float(data["bias"]),
                means=tuple(float(m) for m in data["means"]),
                scales=tuple(float(s) for s in data["scales"]),
                threshold=float(data["threshold"]),
                features=tuple(str(f) for f in data["features"]),
                provenance=dict(data.get("provenance") or {}),
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise KnowledgeError(f"abstention model {path} is unusable: {error}") from error
        if model.features != expected:
            raise KnowledgeError(
                f"abstention model {path} reads {list(model.features)}, this code computes "
                f"{list(expected)}: retrain it (python -m knowledge.eval.abstention)"
            )
        sizes = {len(model.weights), len(model.means), len(model.scales)}
        if sizes != {len(expected)} or any(s <= 0 for s in model.scales):
            raise KnowledgeError(f"abstention model {path} has inconsistent sizes or scales")
        if not 0.0 < model.threshold < 1.0:
            raise KnowledgeError(f"abstention model {path}: threshold must be in (0, 1)")
        return model


def artifact_present(
    directory: Path = ABSTENTION_DIR, quantization: str = "none", selector: bool = False
) -> bool:
    return (directory / model_file(quantization, selector)).is_file()


def fit_logistic(
    rows: Sequence[Sequence[float]], labels: Sequence[int], l2: float = 1.0, steps: int = 50
) -> tuple[tuple[float, ...], float, tuple[float, ...], tuple[float, ...]]:
    """Weights, bias, means and scales of an L2-regularised logistic regression (Newton's
    method on standardised inputs; the bias is not regularised)."""
    import numpy as np

    x = np.asarray(rows, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(set(labels)) != 2:
        raise ValueError("fitting needs rows of signals and both labels")
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales == 0] = 1.0
    design = np.c_[(x - means) / scales, np.ones(len(x))]
    penalty = np.diag([l2] * x.shape[1] + [0.0])
    w = np.zeros(design.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-design @ w))
        gradient = design.T @ (p - y) + penalty @ w
        hessian = design.T @ (design * (p * (1 - p))[:, None]) + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if np.max(np.abs(step)) < 1e-9:
            break
    return (
        tuple(round(float(v), 6) for v in w[:-1]),
        round(float(w[-1]), 6),
        tuple(round(float(v), 6) for v in means),
        tuple(round(float(v), 6) for v in scales),
    )
