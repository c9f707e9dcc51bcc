"""The one patch engine: `git am -3` on a work tree and `git apply` on a scratch index, one diagnosis."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import git
from kit.git.index import scratch_index
from kit.git.patch import CONFLICT, FAILED, MISSING, Applied, Failure, Who, am, apply_to_index
from kit.git.run import Identity


def repo_with_patch(tmp_path: Path) -> tuple[Path, Path]:
    """A repo whose file ``f`` has three lines, and a patch that changes the middle one."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "f").write_text("one\ntwo\nthree\nfour\nfive\n")
    git(repo, "add", "f")
    git(repo, "commit", "-qm", "base")
    (repo / "f").write_text("one\nTWO\nthree\nfour\nfive\n")
    git(repo, "commit", "-qam", "change two")
    git(repo, "format-patch", "-q", "-1", "-o", str(tmp_path / "out"))
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    return repo, next((tmp_path / "out").glob("*.patch"))


def test_a_patch_applies_and_is_dated_as_the_patch(tmp_path):
    repo, patch = repo_with_patch(tmp_path)
    assert am(repo, patch) is None
    assert git(repo, "log", "-1", "--format=%s|%cn|%cI|%aI") == (
        "change two|flowjax-kit|2024-01-01T00:00:00Z|2024-01-01T00:00:00Z".replace("Z", "+00:00")
    )


def test_the_contributor_becomes_author_and_committer_at_the_date_given(tmp_path):
    repo, patch = repo_with_patch(tmp_path)
    who = Who(Identity("Ada", "ada@example.com"), date="2030-05-06T07:08:09+00:00", authors=True)
    assert am(repo, patch, who) is None
    assert git(repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>|%aI|%cI") == (
        "Ada <ada@example.com>|Ada <ada@example.com>|2030-05-06T07:08:09+00:00|2030-05-06T07:08:09+00:00"
    )


def test_a_3way_conflict_names_the_file_and_leaves_no_am_behind(tmp_path):
    repo, patch = repo_with_patch(tmp_path)
    (repo / "f").write_text("one\n2\nthree\nfour\nfive\n")
    git(repo, "commit", "-qam", "ours")
    head = git(repo, "rev-parse", "HEAD")
    failure = am(repo, patch)
    assert isinstance(failure, Failure)
    assert (failure.kind, failure.file, failure.detail) == (CONFLICT, "f", "conflict in f")
    assert git(repo, "rev-parse", "HEAD") == head
    assert not (repo / ".git/rebase-apply").exists()
    assert git(repo, "status", "--porcelain") == ""
    # The scratch index says the same of it.
    with scratch_index(repo, "HEAD") as index:
        onto_index = apply_to_index(index, patch)
    assert isinstance(onto_index, Failure)
    assert (onto_index.kind, onto_index.file, onto_index.detail) == (CONFLICT, "f", "conflict in f")


def other_repo(tmp_path: Path, name: str, text: str) -> Path:
    """A repository of its own (none of the patch's blobs) holding one file ``name``."""
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q", "-b", "main")
    (other / name).write_text(text)
    git(other, "add", name)
    git(other, "commit", "-qm", "base")
    return other


def test_a_patch_whose_blob_is_missing_fails_at_its_file(tmp_path):
    _, patch = repo_with_patch(tmp_path)
    failure = am(other_repo(tmp_path, "f", "uno\ndos\ntres\n"), patch)
    assert isinstance(failure, Failure)
    assert (failure.kind, failure.file, failure.detail) == (FAILED, "f", "patch failed: f")


def test_a_file_deleted_or_created_on_the_base_too_is_a_conflict(tmp_path):
    repo, patch = repo_with_patch(tmp_path)
    git(repo, "rm", "-q", "f")
    git(repo, "commit", "-qm", "gone")
    failure = am(repo, patch)
    assert isinstance(failure, Failure)
    assert (failure.kind, failure.detail) == (CONFLICT, "conflict in f")  # modified here, deleted there
    (repo / "g").write_text("new\n")
    git(repo, "add", "g")
    git(repo, "commit", "-qm", "add g")
    git(repo, "format-patch", "-q", "-1", "-o", str(tmp_path / "creates"))
    git(repo, "reset", "-q", "--hard", "HEAD~1")
    (repo / "g").write_text("mine\n")
    git(repo, "add", "g")
    git(repo, "commit", "-qm", "my g")
    creates = next((tmp_path / "creates").glob("*.patch"))
    failure = am(repo, creates)
    assert isinstance(failure, Failure)
    assert (failure.kind, failure.detail) == (CONFLICT, "conflict in g")  # added here and there


def test_a_file_that_is_not_there_without_a_3way_base_is_named(tmp_path):
    _, patch = repo_with_patch(tmp_path)
    failure = am(other_repo(tmp_path, "g", "unrelated\n"), patch)
    assert isinstance(failure, Failure)
    assert (failure.kind, failure.file, failure.detail) == (MISSING, "f", "f: does not exist in index")


@pytest.mark.parametrize(
    ("edit", "expected"),
    # A line of the patch's context edited on the base: only a 3-way merge applies it.
    [(None, Applied()), ("one\ntwo\nthree\nFOUR\nfive\n", Applied(merged=True, file="f"))],
    ids=["as-it-stands", "3-way"],
)
def test_onto_an_index_as_it_stands_or_by_a_3way_merge(tmp_path, edit, expected):
    repo, patch = repo_with_patch(tmp_path)
    if edit:
        (repo / "f").write_text(edit)
        git(repo, "commit", "-qam", "edit four")
    with scratch_index(repo, "HEAD") as index:
        assert apply_to_index(index, patch) == expected
    assert git(repo, "status", "--porcelain") == ""
