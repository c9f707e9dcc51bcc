"""One PR at a time: `make apply PR=`, prove it, `make refresh` it, restack the rest, `make apply`.

The fake stack: PR `tests` (0001 adds tests/test_new.py) and PR `docs` (0002 inserts a block
into docs/getting_started.rst), which depends on `tests`.
"""

from __future__ import annotations

import re
import subprocess
import sys

from helpers import DOC_BLOCK, IDENT, NEW_TEST, Upstream, error_line, git

TESTS_PATCH = "0001-tests-add-the-new-test.patch"
DOCS_PATCH = "0002-docs-add-a-section.patch"


def patches(upstream: Upstream) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((upstream.kit / "patches").iterdir())}


def normalised(upstream: Upstream) -> dict[str, bytes]:
    """Apply and refresh once, so the hand-made fixture patches are in the kit's own format."""
    assert upstream.kit_run("apply").returncode == 0
    assert upstream.kit_run("refresh").returncode == 0
    return patches(upstream)


def test_edit_one_pr_on_its_branch_then_return_to_the_stack(upstream):
    before = normalised(upstream)
    repo = upstream.checkout
    proc = upstream.kit_run("apply", PR="docs")
    assert proc.returncode == 0, proc.stderr
    assert "`make refresh` exports a commit made here" in proc.stdout
    rst = repo / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Some words.", "Better words."))
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")

    # Proven on its branch: the PR's own tests, with what it depends on; results kept apart.
    proc = upstream.kit_run("test", "--fast", KIT_PYTHON=sys.executable)
    assert "on add-docs: PR docs with what it depends on (tests, docs)" in proc.stdout
    assert re.search(r"kit:   PR docs: the series' own tests +[\d.]+s  1 passed, 0 failed\n", proc.stdout)
    assert (upstream.kit / "build/results/branch-docs/stamp.json").is_file()
    assert not (upstream.kit / "build/results/stamp.json").exists()  # `make pr` reads the stack's only

    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "exported 2 commit(s) of add-docs" in proc.stdout
    assert "changed PR(s) docs; unchanged: tests" in proc.stdout
    assert "wrote docs_additions/added.rst" in proc.stdout
    assert "no PR depends on it; `make apply` returns to the whole stack" in proc.stdout
    after = patches(upstream)
    assert after[TESTS_PATCH] == before[TESTS_PATCH]
    assert after[DOCS_PATCH] != before[DOCS_PATCH]
    assert b"+Better words." in after[DOCS_PATCH]
    assert (upstream.kit / "docs_additions/added.rst").read_text() == DOC_BLOCK.replace("Some", "Better")
    assert upstream.kit_run("drift").returncode == 0
    assert "already applied" in upstream.kit_run("apply", PR="docs").stdout

    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    assert "re-applying" in proc.stdout
    assert git(repo, "branch", "--show-current") == "reparameterized-gradients"
    assert "Better words." in rst.read_text()
    assert (repo / "tests/test_new.py").read_text() == NEW_TEST
    assert patches(upstream) == after


def test_a_dependency_edited_on_its_branch_restacks_the_pr_on_top(upstream):
    before = normalised(upstream)
    repo = upstream.checkout
    assert upstream.kit_run("apply", PR="tests").returncode == 0
    rst = repo / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Intro.", "Intro, edited."))
    git(repo, "commit", "-q", "-a", "-m", "tests: mention them in the intro")
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    stack = (upstream.kit / "patches/stack.toml").read_text()
    assert (
        '    "0001-tests-add-the-new-test.patch",\n    "0002-tests-mention-them-in-the-intro.patch",\n]'
        in stack
    )
    # The dependent PR is cut again on top: its context and index line follow the new base.
    docs = (upstream.kit / "patches/0003-docs-add-a-section.patch").read_text()
    assert " Intro, edited.\n" in docs
    assert DOCS_PATCH not in patches(upstream)
    assert patches(upstream)[TESTS_PATCH] == before[TESTS_PATCH]
    assert upstream.kit_run("apply").returncode == 0
    assert rst.read_text().startswith("Getting started\n===============\n\nIntro, edited.\n\nAdded section\n")


def test_a_restack_conflict_names_the_pr_and_keeps_its_patches(upstream):
    before = normalised(upstream)
    repo = upstream.checkout
    assert upstream.kit_run("apply", PR="tests").returncode == 0
    rst = repo / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("\nNext section\n", "\nLater section\n"))
    git(repo, "commit", "-q", "-a", "-m", "tests: rename the next section")
    proc = upstream.kit_run("refresh")
    line = error_line(proc)
    assert "PR docs does not apply on what it depends on" in line
    assert "conflict in docs/getting_started.rst" in line
    assert (
        "Its patches are kept as they were: `make apply PR=docs` stops before 0003-docs-add-a-section" in line
    )
    # The edit is exported; the conflicting PR's patch is the one it was (renumbered).
    after = patches(upstream)
    assert "0002-tests-rename-the-next-section.patch" in after
    assert after["0003-docs-add-a-section.patch"] == before[DOCS_PATCH]
    assert git(repo, "branch", "--show-current") == "add-tests"
    # The way out it names works: apply the PR, `git am -3` the patch there, resolve, refresh.
    assert "0003-docs-add-a-section.patch does not apply" in error_line(upstream.kit_run("apply", PR="docs"))
    assert git(repo, "branch", "--show-current") == "add-docs"
    am = subprocess.run(
        ["git", "-C", str(repo), "am", "-3", str(upstream.kit / "patches/0003-docs-add-a-section.patch")],
        capture_output=True,
        env=upstream.env() | IDENT,
        check=False,
    )
    assert am.returncode != 0
    rst.write_text(rst.read_text().split("<<<<<<<")[0] + DOC_BLOCK + "Later section\n------------\n\nText.\n")
    git(repo, "add", "docs/getting_started.rst")
    git(repo, "am", "--continue")
    # The docs block's anchor moved with the rename: the kit says so, then takes the new one.
    assert "no commit on the branch adds the block of docs_additions/added.rst" in error_line(
        upstream.kit_run("refresh")
    )
    pin = upstream.kit / "upstream.toml"
    pin.write_text(pin.read_text().replace('before = "Next section"', 'before = "Later section"'))
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "changed PR(s) docs; unchanged: tests" in proc.stdout
    assert "+Added section" in (upstream.kit / "patches/0003-docs-add-a-section.patch").read_text()
    assert upstream.kit_run("apply").returncode == 0
    tail = DOC_BLOCK + "Later section\n------------\n\nText.\n"
    assert (repo / "docs/getting_started.rst").read_text().endswith(tail)


def test_independent_prs_that_collide_in_the_stack_are_named(upstream):
    stack = upstream.kit / "patches/stack.toml"
    stack.write_text(stack.read_text().replace('depends = ["tests"]', "depends = []"))
    normalised(upstream)
    repo = upstream.checkout
    assert upstream.kit_run("apply", PR="tests").returncode == 0
    rst = repo / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("\nNext section\n", "\nLater section\n"))
    git(repo, "commit", "-q", "-a", "-m", "tests: rename the next section")
    line = error_line(upstream.kit_run("refresh"))
    assert "PR docs does not apply on top of tests in the stack" in line
    assert "conflict in docs/getting_started.rst" in line


def test_each_pr_is_cut_against_the_pin_plus_its_dependencies(upstream):
    """Two independent PRs on one file: the later one's index line names the pin's blob."""
    stack = upstream.kit / "patches/stack.toml"
    stack.write_text(stack.read_text().replace('depends = ["tests"]', "depends = []"))
    normalised(upstream)
    repo = upstream.checkout
    assert upstream.kit_run("apply", PR="tests").returncode == 0
    (repo / "docs/getting_started.rst").write_text(
        (repo / "docs/getting_started.rst").read_text().replace("Text.", "Text, for the tests.")
    )
    git(repo, "commit", "-q", "-a", "-m", "tests: a line at the end of the page")
    assert upstream.kit_run("refresh").returncode == 0, "independent PRs, apart in the file"
    pin_blob = git(repo, "rev-parse", "upstream/1.0.0:docs/getting_started.rst")
    docs = (upstream.kit / "patches/0003-docs-add-a-section.patch").read_text()
    assert f"index {pin_blob}.." in docs
    # ... and the whole stack still goes on in order (3-way where they share a file).
    assert upstream.kit_run("apply").returncode == 0
    text = (repo / "docs/getting_started.rst").read_text()
    assert "Added section" in text
    assert "Text, for the tests." in text


def test_refresh_on_another_branch_is_one_line_and_moves_nothing(upstream):
    upstream.kit_run("apply")
    repo = upstream.checkout
    git(repo, "switch", "-q", "-c", "elsewhere")
    before = patches(upstream)
    line = error_line(upstream.kit_run("refresh"))
    assert "is on elsewhere, neither the stack branch reparameterized-gradients nor a PR's branch" in line
    assert patches(upstream) == before
    assert git(repo, "branch", "--show-current") == "elsewhere"


def test_returning_with_unexported_commits_says_where_they_stay(upstream):
    upstream.kit_run("apply", PR="docs")
    repo = upstream.checkout
    (repo / "notes.txt").write_text("mine\n")
    git(repo, "add", "notes.txt")
    git(repo, "commit", "-qm", "my work")
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    assert "add-docs holds commits that are not in patches/ (they stay on it)" in proc.stderr
    assert git(repo, "log", "-1", "--format=%s", "add-docs") == "my work"


def test_a_dependency_dropped_on_a_pr_branch_is_refused_and_nothing_written(upstream):
    before = normalised(upstream)
    repo = upstream.checkout
    assert upstream.kit_run("apply", PR="docs").returncode == 0
    git(repo, "rebase", "-q", "--onto", "upstream/1.0.0", "HEAD~1")  # drops the tests PR's commit
    line = error_line(upstream.kit_run("refresh"))
    assert "PR tests has no commit left on PR docs's branch: refreshing would drop it" in line
    assert patches(upstream) == before
