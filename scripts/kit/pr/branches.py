"""Each PR's branch: its patches committed as the contributor in a scratch worktree, then the branch moved."""

from __future__ import annotations

import re
from pathlib import Path

from kit.checkout import state
from kit.checkout.target import uncommitted
from kit.git import refs
from kit.git import run as git
from kit.git.patch import Who, am_all
from kit.git.run import Identity
from kit.git.worktree import scratch_worktree
from kit.log import KitError
from kit.series.patch import Patch


def branch_commits(repo: Path, base: str, patches: list[Patch], who: Identity, date: str) -> str:
    """Commit ``patches`` on ``base`` as ``who`` (author and committer) at ``date``; the tip."""
    contributor = Who(who, date=date, authors=True)
    with scratch_worktree(repo, base) as work:
        if failure := am_all(work, [p.path for p in patches], contributor):
            raise KitError(f"{failure.patch.name} does not apply on {base}: {failure.detail}")
        return git.out(work, "rev-parse", "HEAD")


def check_branch(repo: Path, branch: str) -> str | None:
    """The tip of ``branch`` now (None: there is none), if `make pr` may move it.

    It may when the branch is new, or holds only what the kit last put there.

    Raises:
        KitError: If the branch holds other commits (yours), or is checked out with local changes.
    """
    old = git.rev(repo, f"refs/heads/{branch}")
    if old is not None and old != state.applied(repo, branch):
        raise KitError(
            f"branch {branch} in {repo} has commits the kit did not write; rename it or "
            f"`make refresh` them first, `make pr` will not overwrite it"
        )
    if git.current_branch(repo) == branch and uncommitted(repo):
        raise KitError(f"{branch} is checked out in {repo} with local changes; commit or stash them first")
    return old


def write_branch(repo: Path, branch: str, tip: str, old: str | None, reason: str) -> None:
    """Point ``branch`` (checked by `check_branch`, then at ``old``) at ``tip``; record it as the kit's."""
    if git.current_branch(repo) == branch:
        git.run(repo, "reset", "--quiet", "--keep", tip)
    else:
        refs.update(repo, f"refs/heads/{branch}", tip, old, f"flowjax-kit: {reason}")
    state.record_applied(repo, branch, tip, reason)


def diff_size(repo: Path, start: str, tip: str) -> tuple[int, int, int]:
    """(files, insertions, deletions) of ``start..tip``."""
    stat = git.out(repo, "diff", "--shortstat", f"{start}..{tip}")

    def number(word: str) -> int:
        found = re.search(rf"(\d+) {word}", stat)
        return int(found.group(1)) if found else 0

    return number("file"), number("insertion"), number("deletion")
