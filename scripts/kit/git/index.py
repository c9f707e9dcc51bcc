"""A scratch index: git commands on a private ``GIT_INDEX_FILE`` holding one tree.

The user's index, working tree, branches and any `git am` state are never touched.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kit.git.run import run
from kit.options import child_env


class Index:
    """A private index of ``repo``, carried in its own ``GIT_INDEX_FILE``."""

    def __init__(self, repo: Path, path: Path) -> None:
        self.repo = repo
        self.env = child_env(GIT_INDEX_FILE=str(path))

    def git(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run a git command in ``repo`` on this index."""
        return run(self.repo, *args, env=self.env, check=check)

    def unmerged(self) -> list[str]:
        """Paths with conflicts (unmerged entries), in index order."""
        lines = self.git("ls-files", "--unmerged").stdout.splitlines()
        return list(dict.fromkeys(line.split("\t", 1)[1] for line in lines))

    def write_tree(self) -> str:
        """The tree this index holds."""
        return self.git("write-tree").stdout.strip()


@contextmanager
def scratch_index(repo: Path, base: str) -> Iterator[Index]:
    """A private index of ``repo`` holding ``base``'s tree, removed after."""
    with tempfile.TemporaryDirectory(prefix="flowjax-kit-index-") as tmp:
        index = Index(repo, Path(tmp) / "index")
        index.git("read-tree", base)
        yield index
