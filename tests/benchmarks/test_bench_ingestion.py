"""The ingestion benchmark's run specifications: a precision, optionally "/N" passages per call."""

from pathlib import Path

import pytest

from benchmarks.bench_ingestion import main

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("spec", ["float16", "int4/32", "int8/0", "int8/abc", "float32/-3"])
def test_a_bad_run_specification_is_refused_with_its_reason(
    spec: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--corpus", str(tmp_path), "--precision", "float32", spec])
    assert exit_info.value.code == 2
    assert "--precision" in capsys.readouterr().err


def test_an_empty_corpus_is_refused_before_any_model_loads(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit):
        main(["--corpus", str(tmp_path), "--precision", "float32/32", "int8", "auto"])
    assert "no PDF under" in capsys.readouterr().err
