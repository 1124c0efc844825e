"""HTTP probes of issue 18 against the real servers: every probe of `tests/security/probes.py`
(forged channel requests, the Rasa HTTP API, forged and stale console cookies, a login flood,
chunked bodies over the limits, another advisor's lead, expired and revoked tokens, ratings and
their CSV export), with the count of probes that held per category, what each observed, and each
open door with what it let through.

    python -m benchmarks.bench_probes [--only ID ...] [--json PATH]

Needs PostgreSQL on loopback (scripts/ensure-services) and `models/current.tar.gz`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.security.probes import PROBES, markdown, probe_stack, report, run_probes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", nargs="*", default=[], help="probe ids to play")
    parser.add_argument("--json", type=Path, help="also write the full report there")
    args = parser.parse_args(argv)
    probes = [probe for probe in PROBES if not args.only or probe.id in args.only]
    unknown = set(args.only) - {probe.id for probe in PROBES}
    if unknown:
        raise SystemExit(f"unknown probe id(s): {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="probes-") as tmp, probe_stack(Path(tmp)) as target:
        result = report(run_probes(target, probes))
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    print(markdown(result))
    return 0 if result["held"] == result["probes"] else 1


if __name__ == "__main__":
    sys.exit(main())
