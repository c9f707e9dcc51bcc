"""Entry point: `python -m kit` with `scripts/` on the path (the Makefile does this)."""

import sys

from kit.cli import main

sys.exit(main())
