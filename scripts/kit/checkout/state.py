"""The kit's own recorded state in a checkout: mode, version, base, and the tip it last left each branch at."""

from __future__ import annotations

from pathlib import Path

from kit.git import run as git

MODE_KEY = "flowjax-kit.mode"


VERSION_KEY = "flowjax-kit.version"


# The ref (tag, branch or commit, as the user named it) the kit last applied the stack onto.
BASE_KEY = "flowjax-kit.base"


def record_base(repo: Path, ref: str) -> None:
    """Remember the ref the stack was applied onto, for the commands that follow."""
    git.run(repo, "config", "--local", BASE_KEY, ref)


def applied_key(branch: str) -> str:
    """Config key holding the commit the kit last left ``branch`` at."""
    return f"flowjax-kit.{branch}.applied"


def record_applied(repo: Path, branch: str) -> None:
    """Remember ``branch``'s tip as the kit's own state: a later `make apply` may rebuild it."""
    git.run(repo, "config", "--local", applied_key(branch), git.out(repo, "rev-parse", branch))


def last_applied(repo: Path, branch: str) -> str | None:
    """The commit the kit last left ``branch`` at, if any."""
    return git.get_config(repo, applied_key(branch))


def mark(repo: Path, mode: str, version: str) -> None:
    """Record in the repository's config that the kit manages this series branch."""
    git.run(repo, "config", "--local", "flowjax-kit.mode", mode)
    git.run(repo, "config", "--local", "flowjax-kit.version", version)
