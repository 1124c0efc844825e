"""Answer evaluation: the service's answers scored against the reference answers (ROUGE-L),
with the answer modes, the share validated and the time per answer."""

import math
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs in the environment

from knowledge.errors import DatasetError
from knowledge.eval.datasets import Question
from knowledge.interfaces import Answer

_WORD = re.compile(r"\w+", re.UNICODE)


def rouge_l(candidate: str, reference: str) -> float:
    """ROUGE-L F1: longest common subsequence of the lower-cased words of both texts.

    Words are Unicode word characters, so French accents are kept (the `rouge-score` package's
    default tokenizer drops every non-ASCII letter)."""
    a = _WORD.findall(candidate.lower())
    b = _WORD.findall(reference.lower())
    if not a or not b:
        return 0.0
    previous = [0] * (len(b) + 1)
    for word in a:
        current = [0]
        for j, other in enumerate(b, start=1):
            current.append(previous[j - 1] + 1 if word == other else max(previous[j], current[-1]))
        previous = current
    common = previous[-1]
    if common == 0:
        return 0.0
    precision, recall = common / len(a), common / len(b)
    return 2 * precision * recall / (precision + recall)


@dataclass(frozen=True)
class AnswerMetrics:
    """How the answers compare with the reference answers."""

    questions: int
    rouge_l_mean: float
    rouge_l_median: float
    modes: dict[str, int]
    validated_rate: float
    seconds_median: float
    seconds_p95: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "questions": self.questions,
            "rouge_l_mean": round(self.rouge_l_mean, 4),
            "rouge_l_median": round(self.rouge_l_median, 4),
            "modes": dict(self.modes),
            "validated_rate": round(self.validated_rate, 4),
            "seconds_median": round(self.seconds_median, 4),
            "seconds_p95": round(self.seconds_p95, 4),
        }


class AnswersQuestions(Protocol):
    def answer(self, question: str, product: str | None = None) -> Answer: ...


def evaluate_answers(
    service: AnswersQuestions,
    questions: Sequence[Question],
    *,
    product_filter: bool = False,
    progress: bool = False,
) -> AnswerMetrics:
    """Answers every question that has a reference answer and scores it with ROUGE-L."""
    scored = [question for question in questions if question.answer]
    if not scored:
        raise DatasetError("questions", None, "no question has a reference answer")
    scores: list[float] = []
    seconds: list[float] = []
    modes: dict[str, int] = {}
    validated = 0
    for question in tqdm(scored, desc="answers", unit="question", disable=not progress):
        started = time.perf_counter()
        product = question.product_code if product_filter else None
        answer = service.answer(question.question, product)
        seconds.append(time.perf_counter() - started)
        scores.append(rouge_l(answer.text, question.answer or ""))
        modes[answer.mode] = modes.get(answer.mode, 0) + 1
        validated += answer.validated
    ordered = sorted(seconds)
    return AnswerMetrics(
        questions=len(scored),
        rouge_l_mean=statistics.fmean(scores),
        rouge_l_median=statistics.median(scores),
        modes=modes,
        validated_rate=validated / len(scored),
        seconds_median=statistics.median(seconds),
        seconds_p95=ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)],
    )


@dataclass(frozen=True)
class ChatAnswers:
    """The chat's answers to a split: ROUGE-L of each answerable question's shown text, the
    seconds of each answer, and the refusals both ways."""

    rouge_l: list[float]
    seconds: list[float]
    false_abstention: float  # answerable questions refused
    abstention: float  # unanswerable questions refused
    refused: list[bool]  # each unanswerable question, in the given order: refused or not

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.seconds)
        return {
            "questions": len(self.rouge_l),
            "rouge_l": round(statistics.fmean(self.rouge_l), 4),
            "false_abstention": round(self.false_abstention, 4),
            "abstention": round(self.abstention, 4),
            "seconds_median": round(statistics.median(ordered), 4),
            "seconds_p95": round(
                ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)], 4
            ),
        }


def chat_answers(
    service: AnswersQuestions, questions: Sequence[Question], unanswerable: Sequence[str]
) -> ChatAnswers:
    """Answers as the chat asks: each answerable question with its product, each unanswerable
    one over all documents."""
    scores: list[float] = []
    seconds: list[float] = []
    refused = 0
    for question in questions:
        started = time.perf_counter()
        answer = service.answer(question.question, question.product_code)
        seconds.append(time.perf_counter() - started)
        scores.append(rouge_l(answer.text, question.answer or ""))
        refused += answer.mode == "refusal"
    abstained = [service.answer(text).mode == "refusal" for text in unanswerable]
    return ChatAnswers(
        rouge_l=scores,
        seconds=seconds,
        false_abstention=refused / max(1, len(questions)),
        abstention=sum(abstained) / max(1, len(unanswerable)),
        refused=abstained,
    )
