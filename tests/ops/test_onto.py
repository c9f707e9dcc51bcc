"""The stack onto upstream's `main` in a user's clone: a simulated upstream history, no network.

The clone holds the release (tag v1.0.0, the sdist's tree) and then commits on `main` that
(a) touch nothing the stack touches, (b) edit a file a PR edits without conflicting (the docs
patch then needs a 3-way merge), or (c) conflict with one PR.
"""

from __future__ import annotations

from pathlib import Path

from helpers import AUTHOR, envs_of_a_run, error_line, git, results_of_a_run, run

DOCS = "docs/getting_started.rst"
DOCS_PATCH = "0002-docs-add-a-section.patch"
BRANCH = "reparameterized-gradients"


def commit_on_main(clone: Path, path: str, old: str | None, new: str, message: str) -> str:
    """Edit ``path`` on main (replace ``old``, or write ``new`` as the whole file); return the commit."""
    git(clone, "switch", "-q", "main")
    file = clone / path
    file.write_text(file.read_text().replace(old, new) if old else new)
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", message)
    return git(clone, "rev-parse", "HEAD")


def moved_past(clone: Path) -> None:
    """(b): main edits a line of the docs patch's context, two lines above where it inserts its block."""
    commit_on_main(clone, DOCS, "Intro.\n", "Intro, reworded on main.\n", "docs: reword")


def conflicting(clone: Path) -> None:
    """(c): main renames the heading the docs PR inserts its block above."""
    commit_on_main(clone, DOCS, "Next section\n------------\n", "Next steps\n----------\n", "docs: rename")


def refs(clone: Path) -> str:
    return git(clone, "for-each-ref", "--format=%(refname) %(objectname)")


def test_unrelated_commits_apply_cleanly_and_the_stack_sits_on_mains_tip(upstream, clone):
    # The clone fixture's main already has (a): a commit adding flowjax/extra.py.
    main = git(clone, "rev-parse", "main")
    proc = run(upstream, "apply", UPSTREAM_REF="main")
    assert proc.returncode == 0, proc.stderr
    assert "PR tests onto main: applies cleanly" in proc.stdout
    assert "PR docs onto main: applies cleanly" in proc.stdout
    assert git(clone, "merge-base", BRANCH, "main") == main
    assert git(clone, "rev-parse", f"{BRANCH}~2") == main
    assert git(clone, "rev-parse", "main") == main  # the user's branch did not move
    assert (clone / "flowjax/extra.py").is_file()  # main's work is under the stack
    # The base is remembered: the next commands need no UPSTREAM_REF.
    again = run(upstream, "apply")
    assert "already applied" in again.stdout
    assert "onto main" in again.stdout


def test_a_file_edited_on_both_sides_takes_a_3way_merge(upstream, clone):
    moved_past(clone)
    main = git(clone, "rev-parse", "main")
    proc = run(upstream, "apply", UPSTREAM_REF="main")
    assert proc.returncode == 0, proc.stderr
    assert "PR tests onto main: applies cleanly" in proc.stdout
    assert f"PR docs onto main: applies with a 3-way merge: {DOCS_PATCH} in {DOCS}" in proc.stdout
    assert git(clone, "merge-base", BRANCH, "main") == main
    text = (clone / DOCS).read_text()
    assert "Added section" in text
    assert "Intro, reworded on main." in text
    assert git(clone, "status", "--porcelain") == ""


def test_a_conflict_is_one_line_naming_pr_patch_and_file_and_nothing_moves(upstream, clone):
    upstream.kit_run("apply")  # the stack on the release first: a branch of the user's to keep
    git(clone, "switch", "-q", "main")
    conflicting(clone)
    before, head = refs(clone), git(clone, "rev-parse", "HEAD")
    line = error_line(run(upstream, "apply", UPSTREAM_REF="main"))
    assert f"PR docs conflicts with main: {DOCS_PATCH} in {DOCS}" in line
    assert "is untouched" in line
    assert refs(clone) == before
    assert git(clone, "rev-parse", "HEAD") == head
    assert git(clone, "branch", "--show-current") == "main"
    assert git(clone, "status", "--porcelain") == ""
    assert not (clone / git(clone, "rev-parse", "--git-path", "rebase-apply")).exists()
    assert git(clone, "worktree", "list").count("\n") == 0  # no scratch worktree left behind


def test_one_pr_alone_onto_main_reports_only_its_closure(upstream, clone):
    conflicting(clone)  # conflicts with docs, not with tests
    proc = run(upstream, "apply", UPSTREAM_REF="main", PR="tests")
    assert proc.returncode == 0, proc.stderr
    assert "PR tests onto main: applies cleanly" in proc.stdout
    assert "PR docs" not in proc.stdout
    assert git(clone, "rev-parse", "add-tests~1") == git(clone, "rev-parse", "main")


def test_moving_the_stack_from_the_release_to_main(upstream, clone):
    assert run(upstream, "apply").returncode == 0
    old = git(clone, "rev-parse", BRANCH)
    proc = run(upstream, "apply", UPSTREAM_REF="main")
    assert proc.returncode == 0, proc.stderr
    assert f"moving {BRANCH} onto main at" in proc.stdout
    assert git(clone, "merge-base", BRANCH, "main") == git(clone, "rev-parse", "main")
    assert (
        git(clone, "rev-parse", "refs/flowjax-kit/previous/reparameterized-gradients") == old
    )  # the old tip is kept


def test_a_branch_with_your_commits_is_not_moved(upstream, clone):
    assert run(upstream, "apply").returncode == 0
    (clone / "mine.txt").write_text("mine\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "my work")
    mine = git(clone, "rev-parse", BRANCH)
    line = error_line(run(upstream, "apply", UPSTREAM_REF="main"))
    assert "does not start from main and holds commits the kit did not write" in line
    assert git(clone, "rev-parse", BRANCH) == mine


def test_origin_main_and_a_commit_are_bases_too(upstream, clone):
    git(clone, "update-ref", "refs/remotes/origin/main", "main")
    proc = run(upstream, "apply", UPSTREAM_REF="origin/main")
    assert proc.returncode == 0, proc.stderr
    assert "PR docs onto origin/main: applies cleanly" in proc.stdout
    commit = git(clone, "rev-parse", "main~1")
    proc = run(upstream, "apply", UPSTREAM_REF=commit)
    assert proc.returncode == 0, proc.stderr
    assert git(clone, "rev-parse", f"{BRANCH}~2") == commit


def test_refusals_are_one_line(upstream, clone):
    assert "no nosuch in this clone" in error_line(run(upstream, "apply", UPSTREAM_REF="nosuch"))
    assert git(clone, "branch", "--show-current") == "main"


def test_the_sdist_checkout_has_no_main(upstream):
    assert run(upstream, "apply").returncode == 0
    line = error_line(run(upstream, "apply", UPSTREAM_REF="main"))
    assert "has no main: it is the PyPI sdist of 1.0.0" in line
    assert "make apply FLOWJAX_DIR=<your clone> UPSTREAM_REF=main" in line


def test_pr_on_main_names_both_bases_and_refuses_when_main_moves(upstream, clone):
    assert run(upstream, "apply").returncode == 0
    results_of_a_run(upstream)  # proven on v1.0.0
    moved_past(clone)
    assert run(upstream, "apply", UPSTREAM_REF="main").returncode == 0
    results_of_a_run(upstream)  # and on main
    envs_of_a_run(upstream)
    main = git(clone, "rev-parse", "main")
    proc = run(upstream, "pr", AUTHOR=AUTHOR)
    assert proc.returncode == 0, proc.stderr
    for branch in ("add-tests", "add-docs"):
        assert git(clone, "merge-base", branch, "main") == main
    day = git(clone, "log", "-1", "--format=%cs", "main")
    body = (upstream.kit / "build/pr/docs/PR_BODY.md").read_text()
    assert f"Proven on v1.0.0 and on main at {main[:7]}, {day}: " in body
    assert f"branches on main at {main[:7]}, {day}, where `make test` proved them" in proc.stdout
    assert f"git -C {clone} push <your-fork-remote> add-docs" in proc.stdout
    # main moves on: the proof no longer holds, and make pr says so in one line.
    git(clone, "update-ref", "refs/heads/main", commit_on_main_elsewhere(clone))
    tips = refs(clone)
    line = error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    assert f"main has moved since its proof ({main[:7]} -> " in line
    assert "make apply UPSTREAM_REF=main" in line
    assert refs(clone) == tips


def commit_on_main_elsewhere(clone: Path) -> str:
    """A new commit on top of main, made without checking main out (the user is on the stack)."""
    tree = git(clone, "rev-parse", "main^{tree}")
    return git(clone, "commit-tree", tree, "-p", "main", "-m", "more work on main")
