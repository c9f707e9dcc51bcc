"""Whether each PR applies onto a base: cleanly, with a 3-way merge, or with a conflict.

Everything happens in a scratch index (``GIT_INDEX_FILE`` in a temporary directory): the
user's index, working tree, branches and any `git am` state are never touched.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kit import gitutil
from kit.log import KitError
from kit.series import Patch
from kit.stack import Stack

CLEAN, MERGED, CONFLICT = "applies cleanly", "applies with a 3-way merge", "conflicts"


@contextmanager
def scratch_index(repo: Path, base: str) -> Iterator[dict[str, str]]:
    """An environment whose git commands use a private index holding ``base``'s tree."""
    with tempfile.TemporaryDirectory(prefix="flowjax-kit-index-") as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))
        gitutil.run(repo, "read-tree", base, env=env)
        yield env


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


def _conflict_file(repo: Path, env: dict[str, str], output: str) -> str | None:
    unmerged = gitutil.run(repo, "ls-files", "--unmerged", env=env).stdout.splitlines()
    if unmerged:
        return unmerged[0].split("\t", 1)[1]
    found = re.search(r"error: patch failed: ([^:\s]+)", output) or re.search(
        r"error: ([^:\s]+): (?:does not exist|already exists|patch does not apply)", output
    )
    return found.group(1) if found else None


def apply_patches(
    repo: Path, env: dict[str, str], patches: list[Patch]
) -> tuple[str, Patch | None, str | None]:
    """Apply ``patches`` in order to the scratch index ``env``: (result, patch, file).

    ``patch`` is the first patch that needed a 3-way merge (``file``: where it did not apply
    as it stands), or the one that conflicts (``file``: the conflicting file).
    """
    result, merged, where = CLEAN, None, None
    for patch in patches:
        plain = gitutil.run(repo, "apply", "--cached", str(patch.path), env=env, check=False)
        if plain.returncode == 0:
            continue
        proc = gitutil.run(repo, "apply", "--cached", "-3", str(patch.path), env=env, check=False)
        if proc.returncode:
            return CONFLICT, patch, _conflict_file(repo, env, proc.stderr + plain.stderr)
        if merged is None:
            merged, where = patch, _conflict_file(repo, env, plain.stderr)
        result = MERGED
    return result, merged, where


def check_each(repo: Path, base: str, stack: Stack) -> list[Outcome]:
    """Each PR of ``stack`` alone (with its dependencies) onto ``base``, in the stack's order."""
    outcomes = []
    for pr in stack.prs:
        with scratch_index(repo, base) as env:
            result, patch, file = apply_patches(repo, env, stack.patches_for(pr.name))
        outcomes.append(Outcome(pr.name, result, patch.name if patch else None, file))
    return outcomes


def conflict_error(outcome: Outcome, base_name: str, repo: Path) -> KitError:
    """The one line for a PR that conflicts with the base; says the checkout is untouched."""
    return KitError(
        f"PR {outcome.pr} conflicts with {base_name}: {outcome.patch} in {outcome.file or 'a file'}; "
        f"{repo} is untouched. Resolve it: `make apply` on the release, `git rebase {base_name}` there "
        f"and fix the file, then `make refresh UPSTREAM_REF={base_name}`; or move the pin (`make bump`)"
    )
