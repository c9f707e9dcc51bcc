"""The kit's own recorded state in a checkout, read and written here only.

- mode (``sdist``: the kit's own checkout; ``clone``: the user's), version and base: in the
  repository's local config (``flowjax-kit.mode``, ``.version``, ``.base``);
- the tip the kit last left each branch at: ``refs/flowjax-kit/applied/<branch>`` (a branch
  at that tip holds nothing but what the kit wrote, so the kit may rebuild it);
- the tip a branch had before the kit rebuilt it: ``refs/flowjax-kit/previous/<branch>``.

The refs are written with a reason and the value expected before (`kit.git.refs`), keep a
reflog, and keep their commits from `git gc`. A checkout made by an older kit recorded the
applied tip in ``flowjax-kit.<branch>.applied`` and one previous tip in
``refs/flowjax-kit/previous``: both are still read, and that ref is kept under
``refs/flowjax-kit/legacy-previous`` the first time a branch's previous tip is recorded.
"""

from __future__ import annotations

from pathlib import Path

from kit.git import refs
from kit.git import run as git

MODE_KEY = "flowjax-kit.mode"
VERSION_KEY = "flowjax-kit.version"
# The ref (tag, branch or commit, as the user named it) the kit last applied the stack onto.
BASE_KEY = "flowjax-kit.base"
APPLIED = "refs/flowjax-kit/applied/"
PREVIOUS = "refs/flowjax-kit/previous/"
LEGACY_PREVIOUS = "refs/flowjax-kit/previous"
KEPT_LEGACY_PREVIOUS = "refs/flowjax-kit/legacy-previous"


def mode(repo: Path) -> str | None:
    """``sdist`` or ``clone`` as recorded (None: the kit has not marked this repository)."""
    return git.get_config(repo, MODE_KEY)


def version(repo: Path) -> str | None:
    """The release the checkout was made from (sdist), or the base it was marked with (clone)."""
    return git.get_config(repo, VERSION_KEY)


def mark(repo: Path, kind: str, release: str) -> None:
    """Record that the kit manages this repository: as its ``sdist`` checkout or a ``clone``."""
    git.set_config(repo, MODE_KEY, kind)
    git.set_config(repo, VERSION_KEY, release)


def base(repo: Path) -> str | None:
    """The ref the kit last applied the stack onto, as the user named it."""
    return git.get_config(repo, BASE_KEY)


def record_base(repo: Path, ref: str) -> None:
    """Remember the ref the stack was applied onto, for the commands that follow."""
    git.set_config(repo, BASE_KEY, ref)


def _legacy_applied_key(branch: str) -> str:
    return f"flowjax-kit.{branch}.applied"


def applied(repo: Path, branch: str) -> str | None:
    """The commit the kit last left ``branch`` at, if any (an older kit's config key as a fallback)."""
    return refs.read(repo, APPLIED + branch) or git.get_config(repo, _legacy_applied_key(branch))


def record_applied(repo: Path, branch: str, tip: str, reason: str) -> None:
    """Remember ``tip`` as where the kit left ``branch``: a later `make apply` may rebuild it.

    Raises:
        KitError: If the record moved since it was read (another kit run at the same time).
    """
    old = refs.read(repo, APPLIED + branch)
    if old != tip:
        refs.update(repo, APPLIED + branch, tip, old, f"flowjax-kit: {reason}")


def previous(repo: Path, branch: str) -> str | None:
    """The tip ``branch`` had before the kit last rebuilt it, if it ever did."""
    return refs.read(repo, PREVIOUS + branch)


def keep_previous(repo: Path, branch: str, tip: str, reason: str) -> None:
    """Keep ``tip``, the branch's tip before the kit rebuilds it, at ``previous/<branch>``."""
    legacy = refs.read(repo, LEGACY_PREVIOUS)
    if legacy is not None and refs.read(repo, KEPT_LEGACY_PREVIOUS) is None:
        # One ref of an older kit's, for every branch: it would block the per-branch refs.
        refs.update(repo, KEPT_LEGACY_PREVIOUS, legacy, None, "flowjax-kit: kept an older kit's previous tip")
        refs.delete(repo, LEGACY_PREVIOUS, legacy, "flowjax-kit: moved to legacy-previous")
    old = refs.read(repo, PREVIOUS + branch)
    refs.update(repo, PREVIOUS + branch, tip, old, f"flowjax-kit: {reason}")
