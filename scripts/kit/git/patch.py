"""The one patch engine: a patch onto a work tree (`git am -3`) or onto a scratch index.

Every caller applies patches through these two functions, with the same flags, and learns
why one did not apply from the same diagnosis (`Failure`): the conflicting file, or where
the patch does not fit. Onto an index a patch goes as `git am -3` takes it: as it stands,
else by a 3-way merge (`Applied.merged`).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kit.git.index import Index, scratch_index
from kit.git.run import KIT, Identity, commit_env, run
from kit.log import KitError

# `git am`'s flags for every patch the kit commits: a 3-way merge where the patch does not
# apply as it stands; the commit dated as the patch (so its hash depends on the patch only).
AM_FLAGS = ("--quiet", "--3way", "--committer-date-is-author-date", "--whitespace=nowarn")

CONFLICT, MISSING, FAILED = "conflict", "missing", "failed"
_MISSING = re.compile(
    r"error: (\S+): (does not exist in index|already exists in (?:index|working directory))"
)
_FAILED = re.compile(r"error: patch failed: ([^:\s]+)")
_NOT_APPLY = re.compile(r"error: ([^:\s]+): (?:patch does not apply|does not exist|already exists)")
_NO_BLOB = re.compile(r"error: sha1 information is lacking or useless \((\S+)\)")


@dataclass(frozen=True)
class Who:
    """Who commits a patch: the committer, at the patch's own date unless ``date`` is given.

    Attributes:
        identity: The committer (the kit, or the contributor for `make pr`).
        date: Author and committer date of the commit; None keeps the patch's date.
        authors: Whether the identity becomes the commit's author too (`make pr`).
    """

    identity: Identity = KIT
    date: str | None = None
    authors: bool = False

    def env(self) -> dict[str, str]:
        return commit_env(self.identity, author=self.identity if self.authors else None, date=self.date)


@dataclass(frozen=True)
class Failure:
    """Why a patch did not apply.

    Attributes:
        patch: The patch file.
        kind: ``conflict`` (a 3-way merge left conflicts in ``file``), ``missing`` (a file the
            patch edits is not there, or one it creates is), ``failed`` (it does not fit
            ``file``, or git gave no file).
        file: The file it stopped at, if git named one.
        reason: Git's first error line (for ``missing``: ``<file>: does not exist in index``).
    """

    patch: Path
    kind: str
    file: str | None
    reason: str

    @property
    def detail(self) -> str:
        """In words: ``conflict in docs/x.rst``, ``patch failed: docs/x.rst``, or git's reason."""
        if self.kind == CONFLICT:
            return f"conflict in {self.file}"
        if self.kind == FAILED and self.file:
            return f"patch failed: {self.file}"
        return self.reason


@dataclass(frozen=True)
class Applied:
    """A patch that went onto an index: as it stands, or by a 3-way merge at ``file``."""

    merged: bool = False
    file: str | None = None


def diagnose(patch: Path, output: str, unmerged: list[str]) -> Failure:
    """The one diagnosis: conflicts first, then a missing file, then where git says it failed."""
    lines = output.strip().splitlines()
    first = next(
        (ln for ln in lines if ln.startswith(("error", "fatal"))), lines[0] if lines else "git failed"
    )
    if unmerged:
        return Failure(patch, CONFLICT, unmerged[0], first)
    if found := _MISSING.search(output):
        return Failure(patch, MISSING, found.group(1), f"{found.group(1)}: {found.group(2)}")
    found = _FAILED.search(output) or _NOT_APPLY.search(output) or _NO_BLOB.search(output)
    return Failure(patch, FAILED, found.group(1) if found else None, first)


def _am(work: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run(work, "am", *args, env=env, check=False)


def am(work: Path, patch: Path, who: Who = Who()) -> Failure | None:
    """Commit ``patch`` on the work tree ``work`` (`git am -3`) as ``who``; None when it applied.

    A failed `am` is aborted after its diagnosis, so ``work`` is left at the last patch that applied.
    """
    proc = _am(work, *AM_FLAGS, str(patch), env=who.env())
    if proc.returncode == 0:
        if who.authors:
            run(
                work,
                "commit",
                "--quiet",
                "--amend",
                "--no-edit",
                "--reset-author",
                "--no-verify",
                env=who.env(),
            )
        return None
    output = proc.stdout + proc.stderr
    unmerged = run(work, "diff", "--name-only", "--diff-filter=U").stdout.split()
    _am(work, "--abort")
    if unmerged:
        return diagnose(patch, output, unmerged)
    # A quiet `git am` names no file when the patch does not fit: ask a scratch index of HEAD.
    with scratch_index(work, "HEAD") as index:
        found = apply_to_index(index, patch)
    return found if isinstance(found, Failure) else diagnose(patch, output, [])


def am_all(work: Path, patches: Iterable[Path], who: Who = Who()) -> Failure | None:
    """`am` each of ``patches`` in order; the first failure, or None when all applied."""
    for patch in patches:
        if failure := am(work, patch, who):
            return failure
    return None


def commit_patches(work: Path, patches: Iterable[Path], what: str) -> None:
    """`am` each of ``patches`` in a scratch worktree as the kit, for a proof (``what`` names it).

    Raises:
        KitError: Naming the patch that does not apply, and why.
    """
    if failure := am_all(work, patches):
        raise KitError(f"{what}: {failure.patch.name} does not apply: {failure.detail}")


def _apply(index: Index, *args: str) -> subprocess.CompletedProcess[str]:
    return index.git("apply", "--cached", *args, check=False)


def apply_to_index(index: Index, patch: Path) -> Applied | Failure:
    """Apply ``patch`` to the scratch ``index`` as `git am -3` would: as it stands, else 3-way."""
    plain = _apply(index, str(patch))
    if plain.returncode == 0:
        return Applied()
    merged = _apply(index, "--3way", str(patch))
    if merged.returncode:
        return diagnose(patch, merged.stderr + plain.stderr, index.unmerged())
    return Applied(merged=True, file=diagnose(patch, plain.stderr, []).file)
