"""The kit's refs: written with a reason and the value expected before, their reflog kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import git
from kit.git import refs
from kit.log import KitError


def test_update_and_delete_check_the_old_value_and_keep_a_reflog(tmp_path: Path):
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    one = git(repo, "rev-parse", "HEAD")
    git(repo, "commit", "-q", "--allow-empty", "-m", "two")
    two = git(repo, "rev-parse", "HEAD")
    ref = "refs/flowjax-kit/applied/main"
    assert refs.read(repo, ref) is None
    refs.update(repo, ref, one, None, "kit: first")
    with pytest.raises(KitError, match="update-ref"):
        refs.update(repo, ref, two, None, "kit: as if new")  # it exists now
    with pytest.raises(KitError, match="update-ref"):
        refs.update(repo, ref, two, two, "kit: from the wrong value")
    refs.update(repo, ref, two, one, "kit: second")
    assert refs.read(repo, ref) == two
    assert git(repo, "reflog", "show", "--format=%H %gs", ref).splitlines() == [
        f"{two} kit: second",
        f"{one} kit: first",
    ]
    with pytest.raises(KitError, match="update-ref"):
        refs.delete(repo, ref, one, "kit: stale")
    refs.delete(repo, ref, two, "kit: gone")
    assert refs.read(repo, ref) is None
