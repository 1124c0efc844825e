"""Run every benchmark module (`benchmarks/bench_*.py`) in turn: `python -m benchmarks [NAME...]`.

Each module prints its own markdown figures; docs/benchmarks.md says what each one measures.
"""

import importlib
import pkgutil
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    names = sorted(
        info.name
        for info in pkgutil.iter_modules([str(Path(__file__).parent)])
        if info.name.startswith("bench_")
    )
    wanted = [f"bench_{name.removeprefix('bench_')}" for name in argv] or names
    unknown = sorted(set(wanted) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(names)}")
        return 2
    failures = 0
    for name in wanted:
        print(f"\n## {name}\n", flush=True)
        module = importlib.import_module(f"benchmarks.{name}")
        saved_argv = sys.argv
        sys.argv = [f"benchmarks.{name}"]
        try:
            result = module.main()
        finally:
            sys.argv = saved_argv
        failures += 1 if isinstance(result, int) and result != 0 else 0
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
