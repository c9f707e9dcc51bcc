"""Cut each PR's patches against the pin plus only what it depends on (a restack).

A PR's stored patches are what `git format-patch` gives on a branch holding the base, the
PRs it depends on and its own commits: their `index` lines name the blobs that PR really
sits on, so each applies alone (`make apply PR=`, `make pr`) and `git am -3` has the right
base when PRs of the stack touch the same file. After one PR changes (`make refresh`),
every PR is cut again in stack order: a PR that depends on it is replayed on its new
patches, the others come out byte for byte as they were.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from kit import gitutil
from kit.stack import Stack


def am(work: Path, patch: Path) -> str | None:
    """`git am -3` one patch in ``work`` as the kit; None when it applied, else why not.

    A failed `am` is aborted, so ``work`` is left at the last patch that applied.
    """
    proc = gitutil.run(
        work,
        "am",
        "-3",
        "--quiet",
        "--committer-date-is-author-date",
        "--whitespace=nowarn",
        str(patch),
        env=gitutil.kit_env(),
        check=False,
    )
    if proc.returncode == 0:
        return None
    unmerged = gitutil.out(work, "diff", "--name-only", "--diff-filter=U")
    gitutil.run(work, "am", "--abort", check=False)
    if unmerged:
        return f"conflict in {unmerged.splitlines()[0]}"
    text = proc.stdout + proc.stderr
    found = re.search(r"error: (?:patch failed: )?([^:\s]+)(?::\d+)?: ", text) or re.search(
        r"error: patch failed: ([^:\s]+)", text
    )
    return (
        f"does not apply to {found.group(1)}"
        if found
        else (text.strip().splitlines() or ["git am failed"])[0]
    )


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
    repo: Path, base: str, stack: Stack, inputs: dict[str, list[Path]], out: Path, env: dict[str, str]
) -> tuple[list[Path], list[Problem]]:
    """Cut every PR's ``inputs`` on ``base`` plus its dependencies' new patches, in stack order.

    Args:
        repo: A git repository holding ``base`` (scratch worktrees are made from it).
        base: The pin's commit.
        stack: The PRs, their order and dependencies (their patch lists are not used).
        inputs: PR name -> its patch files (any base), in order; a PR with none is skipped.
        out: Where the new files go, one folder per PR.
        env: Environment for `git format-patch` (no user `format.*` settings).

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
        with gitutil.scratch_worktree(repo, base) as work:
            why = next((f"{p.name} (a dependency) {w}" for p in deps if (w := am(work, p))), None)
            start = gitutil.out(work, "rev-parse", "HEAD")
            failed = 0  # the input that did not apply (the first, when a dependency did not)
            for n, path in enumerate(files if why is None else []):
                if detail := am(work, path):
                    why, failed = f"{path.name}: {detail}", n
                    break
            if why is None:
                gitutil.run(
                    work,
                    *gitutil.FORMAT_PATCH,
                    f"--start-number={number}",
                    "-o",
                    str(folder),
                    f"{start}..HEAD",
                    env=env,
                )
                new = sorted(folder.glob("*.patch"))
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
    with gitutil.scratch_worktree(repo, base) as work:
        for pr in stack.prs:
            for patch in pr.patches:
                if detail := am(work, patch.path):
                    before = [p.name for p in stack.prs[: stack.prs.index(pr)]]
                    line = (
                        f"PR {pr.name} does not apply on top of {', '.join(before) or 'the base'} "
                        f"in the stack: {patch.name}: {detail}"
                    )
                    return Problem(pr.name, patch.name, line)
    return None
