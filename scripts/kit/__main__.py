"""Entry point: `python -m kit` with `scripts/` on the path (the Makefile does this)."""

import sys

# The kit reads TOML with `tomllib` (Python 3.11+). An older interpreter gets one line, not
# an ImportError traceback. Kept free of newer syntax so that such an interpreter can parse it.
if sys.version_info < (3, 11):  # noqa: UP036 (the point: an older python3 gets here)
    found = ".".join(str(n) for n in sys.version_info[:3])
    sys.stderr.write(
        "kit: error: " + sys.executable + " is Python " + found + "; the kit needs Python 3.11 or newer "
        "(tomllib): run make with PYTHON=python3.11 (or any newer python3)\n"
    )
    sys.exit(1)

from kit.cli import main  # noqa: E402

sys.exit(main())
