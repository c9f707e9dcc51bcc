"""Whether each PR applies onto a base: cleanly, with a 3-way merge, or with a conflict.

Everything happens in a scratch index (``GIT_INDEX_FILE`` in a temporary directory): the
user's index, working tree, branches and any `git am` state are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.git.index import Index, scratch_index
from kit.git.patch import Failure, apply_to_index
from kit.log import KitError
from kit.series.patch import Patch
from kit.series.stack import Stack

CLEAN, MERGED, CONFLICT = "applies cleanly", "applies with a 3-way merge", "conflicts"


@dataclass(frozen=True)
class Outcome:
    """How one PR (with what it depends on) goes onto a base."""

    pr: str
    result: str
    patch: str | None = None  # the patch that needed the merge, or conflicts
    file: str | None = None  # the file that conflicts, or that needed the merge

    def line(self, base_name: str) -> str:
        """``PR x onto main: conflicts: 0002-...patch in flowjax/foo.py``."""
        where = f": {self.patch}" if self.patch else ""
        where += f" in {self.file}" if self.file else ""
        return f"PR {self.pr} onto {base_name}: {self.result}{where}"


def apply_patches(index: Index, patches: list[Patch]) -> tuple[str, Patch | None, str | None]:
    """Apply ``patches`` in order to the scratch ``index``: (result, patch, file).

    ``patch`` is the first patch that needed a 3-way merge (``file``: where it did not apply
    as it stands), or the one that conflicts (``file``: the conflicting file).
    """
    result, merged, where = CLEAN, None, None
    for patch in patches:
        applied = apply_to_index(index, patch.path)
        if isinstance(applied, Failure):
            return CONFLICT, patch, applied.file
        if applied.merged and merged is None:
            merged, where = patch, applied.file
        result = MERGED if applied.merged or result == MERGED else result
    return result, merged, where


def check_each(repo: Path, base: str, stack: Stack) -> list[Outcome]:
    """Each PR of ``stack`` alone (with its dependencies) onto ``base``, in the stack's order."""
    outcomes = []
    for pr in stack.prs:
        with scratch_index(repo, base) as index:
            result, patch, file = apply_patches(index, stack.patches_for(pr.name))
        outcomes.append(Outcome(pr.name, result, patch.name if patch else None, file))
    return outcomes


def conflict_error(outcome: Outcome, base_name: str, repo: Path) -> KitError:
    """The one line for a PR that conflicts with the base; says the checkout is untouched."""
    return KitError(
        f"PR {outcome.pr} conflicts with {base_name}: {outcome.patch} in {outcome.file or 'a file'}; "
        f"{repo} is untouched. Resolve it: `make apply` on the release, `git rebase {base_name}` there "
        f"and fix the file, then `make refresh UPSTREAM_REF={base_name}`; or move the pin (`make bump`)"
    )
