"""Refs the kit writes: `git update-ref -m <reason> <ref> <new> <old>`, with their reflog kept.

The expected old value makes each write refuse when the ref moved meanwhile; ``--create-reflog``
keeps a history of what the kit wrote and why. A ref keeps its commit from `git gc`.
"""

from __future__ import annotations

from pathlib import Path

from kit.git.run import run


def read(repo: Path, ref: str) -> str | None:
    """The object ``ref`` points at, or None if there is no such ref."""
    proc = run(repo, "rev-parse", "--verify", "--quiet", ref, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def update(repo: Path, ref: str, new: str, old: str | None, reason: str) -> None:
    """Point ``ref`` at ``new``, if it points at ``old`` now (None: if it does not exist).

    Raises:
        KitError: If ``ref`` is not at ``old`` (someone moved it) or git refuses.
    """
    run(repo, "update-ref", "--create-reflog", "-m", reason, ref, new, old or "")


def delete(repo: Path, ref: str, old: str, reason: str) -> None:
    """Delete ``ref``, if it points at ``old`` now.

    Raises:
        KitError: If ``ref`` is not at ``old`` or git refuses.
    """
    run(repo, "update-ref", "-m", reason, "-d", ref, old)
