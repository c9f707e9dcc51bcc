"""Scratch worktrees: a detached checkout of one commit in a temporary directory, removed after."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kit.git.run import run

# Proofs run in threads side by side; git's worktree bookkeeping is not for concurrent writers.
_WORKTREES = threading.Lock()


@contextmanager
def scratch_worktree(repo: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of ``repo`` at ``commit`` in a temporary directory, removed after."""
    with tempfile.TemporaryDirectory(prefix="flowjax-kit-") as tmp:
        work = Path(tmp) / "work"
        with _WORKTREES:
            run(repo, "worktree", "add", "--quiet", "--detach", str(work), commit)
        try:
            yield work
        finally:
            with _WORKTREES:
                run(repo, "worktree", "remove", "--force", str(work), check=False)
                run(repo, "worktree", "prune", check=False)
