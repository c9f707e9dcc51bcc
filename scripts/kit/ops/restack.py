"""Cut each PR's patches against the pin plus only what it depends on (a restack).

A PR's stored patches are what `git format-patch` gives on a branch holding the base, the
PRs it depends on and its own commits: their `index` lines name the blobs that PR really
sits on, so each applies alone (`make apply PR=`, `make pr`) and `git am -3` has the right
base when PRs of the stack touch the same file. After one PR changes (`make refresh`),
every PR is cut again in stack order: a PR that depends on it is replayed on its new
patches, the others come out byte for byte as they were.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from kit.git import run as git
from kit.git.format import export
from kit.git.patch import am, am_all
from kit.git.worktree import scratch_worktree
from kit.series.stack import Stack


@dataclass(frozen=True)
class Problem:
    """A PR that does not apply where it belongs; ``patch`` is its new name in the series."""

    pr: str
    patch: str
    line: str


def _renumbered(files: list[Path], start: int, folder: Path) -> list[Path]:
    """Copies of ``files`` numbered from ``start`` (their text is unchanged)."""
    out = []
    for n, path in enumerate(files, start):
        dest = folder / f"{n:04d}-{path.name.split('-', 1)[-1]}"
        shutil.copyfile(path, dest)
        out.append(dest)
    return out


def recut(
    repo: Path, base: str, stack: Stack, inputs: dict[str, list[Path]], out: Path
) -> tuple[list[Path], list[Problem]]:
    """Cut every PR's ``inputs`` on ``base`` plus its dependencies' new patches, in stack order.

    Args:
        repo: A git repository holding ``base`` (scratch worktrees are made from it).
        base: The pin's commit.
        stack: The PRs, their order and dependencies (their patch lists are not used).
        inputs: PR name -> its patch files (any base), in order; a PR with none is skipped.
        out: Where the new files go, one folder per PR.

    Returns:
        The new series' files in order, numbered by position, and one line per PR that did
        not apply where it belongs; such a PR keeps its input files, renumbered.
    """
    done: dict[str, list[Path]] = {}
    problems: list[Problem] = []
    number = 1
    for pr in stack.prs:
        files = inputs.get(pr.name, [])
        folder = out / pr.name
        folder.mkdir(parents=True)
        deps = [p for dep in stack.closure(pr.name) if dep.name != pr.name for p in done.get(dep.name, [])]
        if not files:
            done[pr.name] = []
            continue
        with scratch_worktree(repo, base) as work:
            failure = am_all(work, deps)
            why = f"{failure.patch.name} (a dependency) {failure.detail}" if failure else None
            start = git.out(work, "rev-parse", "HEAD")
            failed = 0  # the input that did not apply (the first, when a dependency did not)
            for n, path in enumerate(files if why is None else []):
                if failure := am(work, path):
                    why, failed = f"{path.name}: {failure.detail}", n
                    break
            if why is None:
                new = export(work, start, "HEAD", folder, start_number=number)
        if why is not None:
            new = _renumbered(files, number, folder)
            line = f"PR {pr.name} does not apply on what it depends on: {why}"
            problems.append(Problem(pr.name, new[failed].name, line))
        done[pr.name] = new
        number += len(new)
    return [p for pr in stack.prs for p in done[pr.name]], problems


def stack_problem(repo: Path, base: str, stack: Stack) -> Problem | None:
    """Whether the whole series applies in stack order (`git am -3`); None if it does.

    PRs that do not depend on each other are cut separately; where two of them touch the
    same lines, the later one does not apply on the stack branch. Names that PR.
    """
    with scratch_worktree(repo, base) as work:
        for pr in stack.prs:
            for patch in pr.patches:
                if failure := am(work, patch.path):
                    before = [p.name for p in stack.prs[: stack.prs.index(pr)]]
                    line = (
                        f"PR {pr.name} does not apply on top of {', '.join(before) or 'the base'} "
                        f"in the stack: {patch.name}: {failure.detail}"
                    )
                    return Problem(pr.name, patch.name, line)
    return None
