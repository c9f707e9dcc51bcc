"""Checked `git` calls, one function per question, and the identities the kit commits under."""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kit.log import KitError
from kit.options import child_env

# The kit commits (base commit, `git am`) under this committer, set per command through the
# environment: never in the user's git config, and it works where no identity is configured.
KIT_NAME = "flowjax-kit"
KIT_EMAIL = "flowjax-kit@localhost"
# A fixed date makes the base commit's hash depend on the sdist alone.
EPOCH = "2000-01-01T00:00:00Z"


@dataclass(frozen=True)
class Identity:
    """A name and an email that a commit is made under."""

    name: str
    email: str

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


KIT = Identity(KIT_NAME, KIT_EMAIL)


def clean_config_env() -> dict[str, str]:
    """The environment with no system or global git config (user `format.*` settings)."""
    return child_env(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)


def commit_env(
    committer: Identity = KIT, *, author: Identity | None = None, date: str | None = None
) -> dict[str, str]:
    """Environment for a command that commits as ``committer`` (and ``author``), at ``date`` if given."""
    env = child_env(GIT_COMMITTER_NAME=committer.name, GIT_COMMITTER_EMAIL=committer.email)
    if author is not None:
        env |= {"GIT_AUTHOR_NAME": author.name, "GIT_AUTHOR_EMAIL": author.email}
    if date is not None:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    return env


def kit_env(*, author: bool = False, fixed_date: bool = False) -> dict[str, str]:
    """Environment for a command that commits as the kit."""
    return commit_env(KIT, author=KIT if author else None, date=EPOCH if fixed_date else None)


def run(
    repo: Path,
    *args: str,
    env: dict[str, str] | None = None,
    check: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `git -C repo args...`, as the kit's committer unless `env` says otherwise.

    Raises:
        KitError: If `check` and git exits non-zero; the message carries git's first error line.
    """
    proc = subprocess.run(
        ["git", "-C", str(repo), "-c", "advice.detachedHead=false", "-c", "commit.gpgsign=false", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else kit_env(),
        input=stdin,
        check=False,
    )
    if check and proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        detail = next((ln for ln in lines if ln.startswith(("fatal", "error"))), None)
        detail = detail or (lines[0] if lines else f"exit {proc.returncode}")
        raise KitError(f"git {args[0]} in {repo} failed: {detail}")
    return proc


def out(repo: Path, *args: str) -> str:
    """Run git and return its stripped stdout."""
    return run(repo, *args).stdout.strip()


def rev(repo: Path, name: str) -> str | None:
    """The commit `name` points at, or None if it does not exist."""
    proc = run(repo, "rev-parse", "--verify", "--quiet", f"{name}^{{commit}}", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def tree(repo: Path, commit: str = "HEAD") -> str:
    """The tree of ``commit``."""
    return out(repo, "rev-parse", f"{commit}^{{tree}}")


def is_ancestor(repo: Path, ancestor: str, commit: str) -> bool:
    """Whether ``ancestor`` is ``commit`` or one of its ancestors."""
    return run(repo, "merge-base", "--is-ancestor", ancestor, commit, check=False).returncode == 0


def is_repo(path: Path) -> bool:
    """Whether `path` is the top of a git work tree."""
    if not (path / ".git").exists():
        return False
    proc = run(path, "rev-parse", "--show-toplevel", check=False)
    return proc.returncode == 0 and Path(proc.stdout.strip()).resolve() == path.resolve()


def dirty(repo: Path) -> list[str]:
    """Paths with uncommitted changes, untracked files included."""
    status = run(repo, "status", "--porcelain", "--untracked-files=all").stdout
    return [line[3:] for line in status.splitlines() if line]


def current_branch(repo: Path) -> str | None:
    """The checked-out branch, or None when HEAD is detached."""
    proc = run(repo, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def get_config(repo: Path, key: str) -> str | None:
    """A value from the repository's own config, or None."""
    proc = run(repo, "config", "--local", "--get", key, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def set_config(repo: Path, key: str, value: str) -> None:
    """Set a value in the repository's own config."""
    run(repo, "config", "--local", key, value)
