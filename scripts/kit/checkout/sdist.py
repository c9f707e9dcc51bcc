"""Make a git checkout of the pinned release from its verified sdist; name a backup to move one aside to."""

from __future__ import annotations

import shutil
import tarfile
import tempfile
import time
from pathlib import Path

from kit.checkout.fetch import fetch_sdist, verify
from kit.checkout.state import mark
from kit.git import run as git
from kit.log import KitError, step
from kit.paths import Kit
from kit.series.pin import Pin

# Kept out of `git status` in the kit's checkout (written to .git/info/exclude, not committed):
# what tests, docs builds and editable installs leave behind, so they never read as local edits.
EXCLUDES = ("__pycache__/", ".pytest_cache/", ".ruff_cache/", "*.egg-info/", "docs/_build/")


def verified_sdist(kit: Kit, pin: Pin) -> Path:
    """The pinned sdist, fetched into the cache (on first use) and its sha256 verified.

    Raises:
        KitError: If it cannot be fetched or its hash is not the pin's.
    """
    sdist = fetch_sdist(kit.index_url, pin.package, pin.version, kit.cache)
    verify(sdist, pin.sha256)
    return sdist


def create_from_sdist(kit: Kit, pin: Pin, sdist: Path) -> None:
    """Unpack the verified ``sdist`` into `kit.checkout` as a git repo with a base commit.

    The tree is built in a temporary sibling directory and moved into place only when the
    base commit and tag exist, so a failure leaves no half-made checkout.
    """
    dest = kit.checkout
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}-", dir=dest.parent))
    try:
        with step(f"unpack {sdist.name} and commit it as {pin.base_tag}"):
            with tarfile.open(sdist) as tar:
                tar.extractall(tmp, filter="data")
            tops = list(tmp.iterdir())
            if len(tops) != 1 or not tops[0].is_dir():
                raise KitError(f"{sdist}: expected one top-level directory in the sdist")
            repo = tops[0]
            git.run(repo, "init", "--quiet", "--initial-branch", "upstream")
            exclude = repo / ".git" / "info" / "exclude"
            exclude.parent.mkdir(exist_ok=True)
            exclude.write_text("".join(f"{p}\n" for p in EXCLUDES))
            git.run(repo, "add", "--all", "--force", ".")
            message = f"{pin.package} {pin.version} (PyPI sdist, sha256 {pin.sha256})"
            env = git.kit_env(author=True, fixed_date=True)
            git.run(repo, "commit", "-q", "-m", message, env=env)
            git.run(repo, "tag", pin.base_tag)
            git.run(repo, "switch", "--quiet", "--create", pin.branch)
            mark(repo, "sdist", pin.version)
            if dest.is_dir():
                dest.rmdir()  # only an empty directory gets here
            repo.replace(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def move_aside(checkout: Path, aside: Path) -> None:
    """Move a whole checkout (every branch, every edit) to ``aside``; nothing is deleted."""
    checkout.replace(aside)


def backup_name(base: Path | str) -> str:
    return f"{base}-backup-{time.strftime('%Y%m%d-%H%M%S')}"
