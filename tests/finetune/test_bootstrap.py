"""The paired bootstrap on synthetic data whose answer is known."""

import numpy as np
import pytest

from finetune.bootstrap import (
    BootstrapSettings,
    compare,
    mean_interval,
    paired_difference,
    resample_indices,
    statistic_interval,
)

pytestmark = pytest.mark.unit


class TestPairedBootstrap:
    def test_a_clear_difference_is_excluded_from_zero(self) -> None:
        rng = np.random.default_rng(1)
        better = (rng.random(300) < 0.8).astype(float)
        worse = (rng.random(300) < 0.5).astype(float)
        interval = paired_difference(better, worse)
        assert interval.excludes_zero()
        assert interval.favours_first()
        assert interval.low < better.mean() - worse.mean() < interval.high
        assert interval.low < 0.3 < interval.high  # the true difference

    def test_a_null_difference_includes_zero(self) -> None:
        # Half the questions only the first model gets right, half only the second: the true
        # and the observed difference are both exactly 0.
        first = np.array([1.0, 0.0] * 150)
        second = np.array([0.0, 1.0] * 150)
        interval = paired_difference(first, second)
        assert interval.estimate == 0.0
        assert interval.low < 0.0 < interval.high
        assert not interval.excludes_zero()

    def test_pairing_detects_a_small_consistent_gain_that_separate_intervals_miss(self) -> None:
        rng = np.random.default_rng(2)
        difficulty = rng.random(200)  # questions differ a lot ...
        base = difficulty
        tuned = difficulty + 0.03 + rng.normal(0, 0.01, 200)  # ... the gain hardly at all
        alone_base, alone_tuned = mean_interval(base), mean_interval(tuned)
        assert alone_tuned.low < alone_base.high  # the two intervals overlap
        assert paired_difference(tuned, base).favours_first()

    def test_the_interval_of_a_mean_covers_the_truth_about_95_percent_of_the_time(self) -> None:
        rng = np.random.default_rng(3)
        settings = BootstrapSettings(resamples=400, seed=4)
        covered = 0
        trials = 200
        for _ in range(trials):
            sample = (rng.random(120) < 0.3).astype(float)
            interval = mean_interval(sample, settings)
            covered += interval.low <= 0.3 <= interval.high
        assert 0.88 <= covered / trials <= 0.99

    def test_the_same_seed_gives_the_same_interval_and_another_seed_moves_it(self) -> None:
        values = np.random.default_rng(5).random(100)
        first = mean_interval(values, BootstrapSettings(resamples=1000, seed=7))
        assert first == mean_interval(values, BootstrapSettings(resamples=1000, seed=7))
        assert first != mean_interval(values, BootstrapSettings(resamples=1000, seed=8))

    def test_a_missing_value_is_refused(self) -> None:
        with pytest.raises(ValueError, match="missing"):
            mean_interval([1.0, float("nan")])

    def test_models_must_share_their_questions(self) -> None:
        with pytest.raises(ValueError, match="same questions"):
            paired_difference([1.0, 0.0], [1.0])


class TestStrata:
    def test_each_resample_keeps_the_size_of_every_stratum(self) -> None:
        strata = ["piaf"] * 7 + ["own"] * 3
        rows = resample_indices(10, BootstrapSettings(resamples=50), strata)
        assert rows.shape == (50, 10)
        for row in rows:
            assert sum(1 for i in row if strata[i] == "own") == 3


class TestCompare:
    def test_differences_are_taken_on_the_questions_both_models_answered(self) -> None:
        per_model = {
            "tuned": {f"q{i}": 1.0 for i in range(100)},
            "base": {f"q{i}": float(i % 2) for i in range(100)},
            "partial": {f"q{i}": 1.0 for i in range(10)},
        }
        result = compare(per_model, [("tuned", "base"), ("tuned", "partial"), ("x", "base")])
        assert result["models"]["tuned"].estimate == 1.0
        assert result["models"]["partial"].count == 10
        assert result["differences"]["tuned − base"].estimate == pytest.approx(0.5)
        assert result["differences"]["tuned − base"].favours_first()
        assert result["differences"]["tuned − partial"].count == 10
        assert "x − base" not in result["differences"]


def test_any_statistic_gets_an_interval() -> None:
    values = np.random.default_rng(6).random(200)
    interval = statistic_interval(lambda rows: float(np.median(values[rows])), 200)
    assert interval.low < float(np.median(values)) < interval.high
    assert interval.low < 0.5 < interval.high
