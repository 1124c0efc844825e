"""Paired bootstrap confidence intervals: is a difference between two models real?

Every model of a comparison answers the same questions, so the questions are resampled (with
replacement, `resamples` times, from a fixed seed) and each resample is applied to every model
at once: the interval of a difference then accounts for the questions' shared difficulty
(a paired test). Intervals are percentile intervals (the 2.5th and 97.5th percentiles of the
resampled statistic for 95 %).

Questions from different sources (PIAF, the team's own) can be resampled within their stratum,
so each resample keeps the sources' sizes.

A difference is "real" at the chosen level when its interval excludes 0 (`Interval.excludes_zero`).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

IndexMatrix = npt.NDArray[np.int64]  # (resamples, questions): question positions


@dataclass(frozen=True)
class BootstrapSettings:
    resamples: int = 2000
    seed: int = 0
    level: float = 0.95

    def __post_init__(self) -> None:
        if self.resamples < 1:
            raise ValueError("resamples must be at least 1")
        if not 0.0 < self.level < 1.0:
            raise ValueError("level must be between 0 and 1")


DEFAULT = BootstrapSettings()


@dataclass(frozen=True)
class Interval:
    """A point estimate (on the questions as they are) and its bootstrap interval."""

    estimate: float
    low: float
    high: float
    count: int
    level: float = 0.95

    def excludes_zero(self) -> bool:
        return self.low > 0.0 or self.high < 0.0

    def favours_first(self) -> bool:
        """For a difference a − b: a is better (higher) beyond doubt at this level."""
        return self.low > 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "estimate": _round(self.estimate),
            "low": _round(self.low),
            "high": _round(self.high),
            "count": self.count,
            "level": self.level,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Interval":
        return cls(
            float(data["estimate"]),
            float(data["low"]),
            float(data["high"]),
            int(data["count"]),
            float(data.get("level", 0.95)),
        )


def _round(value: float) -> float:
    return value if np.isnan(value) else round(float(value), 6)


def resample_indices(
    count: int,
    settings: BootstrapSettings = DEFAULT,
    strata: Sequence[str] | None = None,
) -> IndexMatrix:
    """`settings.resamples` rows of `count` question positions drawn with replacement; with
    `strata` (one label per question) each row draws within each stratum, keeping its size."""
    rng = np.random.default_rng(settings.seed)
    if count == 0:
        return np.zeros((settings.resamples, 0), dtype=np.int64)
    if strata is None:
        return rng.integers(0, count, size=(settings.resamples, count), dtype=np.int64)
    if len(strata) != count:
        raise ValueError("one stratum label per question is needed")
    labels = np.asarray(strata)
    columns: list[IndexMatrix] = []
    for label in sorted(set(labels.tolist())):
        members = np.flatnonzero(labels == label)
        draws = rng.integers(0, len(members), size=(settings.resamples, len(members)))
        columns.append(members[draws].astype(np.int64))
    return np.concatenate(columns, axis=1)


def _percentiles(samples: npt.NDArray[np.float64], level: float) -> tuple[float, float]:
    finite = samples[np.isfinite(samples)]
    if finite.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    low, high = np.quantile(finite, [tail, 1.0 - tail])
    return float(low), float(high)


def _values(values: Sequence[float] | npt.NDArray[Any]) -> npt.NDArray[np.float64]:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError("expected one value per question")
    if np.isnan(array).any():
        raise ValueError("a per-question value is missing (NaN): filter the questions first")
    return array


def mean_interval(
    values: Sequence[float] | npt.NDArray[Any],
    settings: BootstrapSettings = DEFAULT,
    strata: Sequence[str] | None = None,
    indices: IndexMatrix | None = None,
) -> Interval:
    """The mean of per-question values (1/0 for a rate) and its interval."""
    array = _values(values)
    if array.size == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, settings.level)
    rows = indices if indices is not None else resample_indices(array.size, settings, strata)
    low, high = _percentiles(array[rows].mean(axis=1), settings.level)
    return Interval(float(array.mean()), low, high, int(array.size), settings.level)


def paired_difference(
    first: Sequence[float] | npt.NDArray[Any],
    second: Sequence[float] | npt.NDArray[Any],
    settings: BootstrapSettings = DEFAULT,
    strata: Sequence[str] | None = None,
    indices: IndexMatrix | None = None,
) -> Interval:
    """mean(first) − mean(second) over the same questions (same positions), and its interval."""
    a, b = _values(first), _values(second)
    if a.shape != b.shape:
        raise ValueError("a paired difference needs the same questions for both models")
    return mean_interval(a - b, settings, strata, indices)


def statistic_interval(
    statistic: Callable[[npt.NDArray[np.int64]], float],
    count: int,
    settings: BootstrapSettings = DEFAULT,
    strata: Sequence[str] | None = None,
) -> Interval:
    """Any statistic of a set of questions (e.g. an expected calibration error), given as a
    function of the question positions, and its interval."""
    if count == 0:
        return Interval(float("nan"), float("nan"), float("nan"), 0, settings.level)
    rows = resample_indices(count, settings, strata)
    samples = np.asarray([statistic(row) for row in rows], dtype=np.float64)
    low, high = _percentiles(samples, settings.level)
    estimate = statistic(np.arange(count, dtype=np.int64))
    return Interval(float(estimate), low, high, count, settings.level)


def align(
    first: Mapping[str, float], second: Mapping[str, float]
) -> tuple[list[str], list[float], list[float]]:
    """The questions both models answered (by id, sorted) and their two values."""
    shared = sorted(set(first) & set(second))
    return shared, [first[k] for k in shared], [second[k] for k in shared]


def compare(
    per_model: Mapping[str, Mapping[str, float]],
    differences: Sequence[tuple[str, str]],
    settings: BootstrapSettings = DEFAULT,
    strata: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Intervals of each model's mean (on its own questions) and of each difference a − b
    (on the questions both answered, paired).

    `per_model`: model → {question id: value}; `strata`: question id → stratum."""
    models = {
        name: mean_interval(
            [values[k] for k in sorted(values)],
            settings,
            [strata[k] for k in sorted(values)] if strata else None,
        )
        for name, values in per_model.items()
    }
    pairs: dict[str, Interval] = {}
    for a, b in differences:
        if a not in per_model or b not in per_model:
            continue
        keys, first, second = align(per_model[a], per_model[b])
        pairs[f"{a} − {b}"] = paired_difference(
            first, second, settings, [strata[k] for k in keys] if strata else None
        )
    return {"models": models, "differences": pairs}
