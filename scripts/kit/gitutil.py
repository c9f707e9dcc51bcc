"""Checked `git` calls, with the kit's own identity set per command for its commits."""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kit.log import KitError

# The kit commits (base commit, `git am`) under this committer, set per command through the
# environment: never in the user's git config, and it works where no identity is configured.
KIT_NAME = "flowjax-kit"
KIT_EMAIL = "flowjax-kit@localhost"
# A fixed date makes the base commit's hash depend on the sdist alone.
EPOCH = "2000-01-01T00:00:00Z"


# `git format-patch` whose output depends only on the commits: no hashes, dates of now,
# git version signature or user `format.*` settings (with `clean_config_env`).
FORMAT_PATCH = (
    "format-patch",
    "--no-numbered",
    "--zero-commit",
    "--full-index",
    "--no-signature",
    "--subject-prefix=PATCH",
)


def clean_config_env() -> dict[str, str]:
    """The environment with no system or global git config (user `format.*` settings)."""
    return dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)


def kit_env(*, author: bool = False, fixed_date: bool = False) -> dict[str, str]:
    """Environment for a command that commits as the kit."""
    env = dict(os.environ, GIT_COMMITTER_NAME=KIT_NAME, GIT_COMMITTER_EMAIL=KIT_EMAIL)
    if author:
        env |= {"GIT_AUTHOR_NAME": KIT_NAME, "GIT_AUTHOR_EMAIL": KIT_EMAIL}
    if fixed_date:
        env |= {"GIT_AUTHOR_DATE": EPOCH, "GIT_COMMITTER_DATE": EPOCH}
    return env


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


# Proofs run in threads side by side; git's worktree bookkeeping is not for concurrent writers.
_WORKTREES = threading.Lock()


@contextmanager
def scratch_worktree(repo: Path, commit: str) -> Iterator[Path]:
    """A detached worktree of ``repo`` at ``commit`` in a temporary directory, removed after."""
    with tempfile.TemporaryDirectory(prefix="flowjax-kit-") as tmp:
        work = Path(tmp) / "work"
        with _WORKTREES:
            run(repo, "worktree", "add", "--quiet", "--detach", str(work), commit)
        try:
            yield work
        finally:
            with _WORKTREES:
                run(repo, "worktree", "remove", "--force", str(work), check=False)
                run(repo, "worktree", "prune", check=False)
