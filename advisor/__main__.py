"""`python -m advisor`: see advisor/cli.py."""

import sys

from advisor.cli import main

sys.exit(main())
