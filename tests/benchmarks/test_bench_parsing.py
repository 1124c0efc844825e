"""The parsing benchmark's scoring: reading a case file, comparing values, the printed figures."""

import pytest

from benchmarks.bench_parsing import CaseFileError, load_cases, main, matches, report, score

pytestmark = pytest.mark.unit

TINY = """\
cases:
- {slot: vehicles, answer: "pas de voiture mais un scooter", expected: [scooter], kind: mixed}
- {slot: vehicles, answer: "une voiture", expected: [motorcycle], kind: plain, note: wrong}
- {slot: pets, answer: "ni chien ni chat", expected: [dog], kind: negative, note: wrong}
- {slot: age, answer: "quarante-deux ans", expected: 42, kind: words}
- {slot: facts, answer: "je ne suis pas sous curatelle", expected: {}, kind: negative}
"""


@pytest.fixture
def tiny(tmp_path):
    path = tmp_path / "cases.yml"
    path.write_text(TINY, encoding="utf-8")
    return path


class TestScoring:
    def test_each_row_is_scored_against_what_the_form_keeps(self, tiny):
        results = score(load_cases(tiny))
        assert [result.passed for result in results] == [True, False, False, True, True]
        assert results[2].actual == []

    def test_the_report_gives_overall_and_negative_or_mixed_accuracy(self, tiny):
        text = report(score(load_cases(tiny)))
        assert "| 5 | 3/5 (60.0 %) | 2/3 (66.7 %) |" in text
        assert "| negative | 1/2 (50.0 %) |" in text
        assert "| vehicles | 1/2 (50.0 %) |" in text
        assert "scooter" not in text  # no row is shown unless asked

    def test_failures_are_listed_only_on_request(self, tiny):
        text = report(score(load_cases(tiny)), show_failures=True)
        assert "| pets | ni chien ni chat | ['dog'] | [] |" in text
        assert "pas de voiture mais un scooter" not in text

    def test_the_command_line_scores_any_file(self, tiny, capsys):
        assert main(["--cases", str(tiny)]) == 0
        assert "3/5 (60.0 %)" in capsys.readouterr().out

    def test_a_file_without_the_keys_is_refused(self, tmp_path):
        path = tmp_path / "bad.yml"
        path.write_text("cases:\n- {slot: age, answer: '42'}\n", encoding="utf-8")
        with pytest.raises(CaseFileError):
            load_cases(path)


class TestMatches:
    @pytest.mark.parametrize(
        ("expected", "actual"),
        [([], []), (["car", "scooter"], ["scooter", "car"]), (1500, 1500.0), (True, True),
         (None, None), ("unknown", "unknown"),
         ({"pets": ["cat", "dog"]}, {"pets": ["dog", "cat"]})],
    )  # fmt: skip
    def test_equal_values(self, expected, actual):
        assert matches(expected, actual)

    @pytest.mark.parametrize(
        ("expected", "actual"),
        [([], None), (0, None), (True, 1), (1, True), (0, False), (["car"], ["car", "moto"]),
         (1500, 1501), ({}, {"age": 40}), ("tenant", "owner_occupier")],
    )  # fmt: skip
    def test_different_values(self, expected, actual):
        assert not matches(expected, actual)
