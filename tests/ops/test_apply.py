"""`make apply`: fresh checkout, idempotency, bad input, local work, a user's clone, FORCE, DRY_RUN."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import NEW_TEST, Upstream, error_line, git, leftovers


def test_fresh_apply_builds_base_and_series(upstream):
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    repo = upstream.checkout
    assert git(repo, "branch", "--show-current") == "reparameterized-gradients"
    subjects = git(repo, "log", "--format=%s", "upstream/1.0.0..HEAD").splitlines()
    assert subjects == ["docs: add a section", "tests: add the new test"]
    assert (repo / "tests/test_new.py").read_text() == NEW_TEST
    # Commits are the kit's (no identity was configured) and authored as in the patches.
    assert set(git(repo, "log", "--format=%cn <%ce>").splitlines()) == {"flowjax-kit <flowjax-kit@localhost>"}
    assert git(repo, "log", "-1", "--format=%an") == "Test Author"
    assert not (upstream.tmp / "home" / ".gitconfig").exists()
    for what in ("download", "verify sha256", "unpack", "apply 2 patch(es)"):
        assert f"kit: {what}" in proc.stdout
    assert "done in" in proc.stdout
    assert "branch reparameterized-gradients: 2 patch(es)" in proc.stdout
    assert "make test" in proc.stdout
    assert git(repo, "status", "--porcelain") == ""


def test_base_commit_is_reproducible(upstream):
    upstream.kit_run("apply")
    first = git(upstream.checkout, "rev-parse", "upstream/1.0.0")
    upstream.checkout.rename(upstream.tmp / "elsewhere")
    upstream.kit_run("apply")
    assert git(upstream.checkout, "rev-parse", "upstream/1.0.0") == first


def test_second_apply_changes_nothing(upstream):
    upstream.kit_run("apply")
    head = upstream.head()
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0
    assert "already applied: 2 patch(es) on reparameterized-gradients; nothing changed" in proc.stdout
    assert "download" not in proc.stdout
    assert upstream.head() == head
    assert git(upstream.checkout, "status", "--porcelain") == ""


def test_cache_is_reused_offline(upstream):
    upstream.kit_run("apply")
    upstream.checkout.rename(upstream.tmp / "old")
    proc = upstream.kit_run("apply", KIT_INDEX_URL="http://127.0.0.1:9/simple")
    assert proc.returncode == 0, proc.stderr
    assert "found in cache" in proc.stdout


def test_uncommitted_edit_is_refused_and_kept(upstream):
    upstream.kit_run("apply")
    edited = upstream.checkout / "tests/test_new.py"
    edited.write_text("# my local edit\n")
    head = upstream.head()
    line = error_line(upstream.kit_run("apply"))
    assert "uncommitted changes (tests/test_new.py)" in line
    assert edited.read_text() == "# my local edit\n"
    # FORCE moves the whole old checkout aside; the edit is still there.
    assert upstream.kit_run("apply", FORCE="1").returncode == 0
    backups = [p for p in upstream.checkout.parent.iterdir() if "backup" in p.name]
    assert len(backups) == 1
    assert (backups[0] / "tests/test_new.py").read_text() == "# my local edit\n"
    assert git(backups[0], "rev-parse", "HEAD") == head
    assert (upstream.checkout / "tests/test_new.py").read_text() == NEW_TEST


def test_foreign_commit_is_refused_and_kept(upstream):
    upstream.kit_run("apply")
    (upstream.checkout / "mine.txt").write_text("work\n")
    git(upstream.checkout, "add", "-A")
    git(upstream.checkout, "commit", "-qm", "my work")
    head = upstream.head()
    line = error_line(upstream.kit_run("apply"))
    # Only the foreign commit is named, not the series' own commits below it.
    assert f"1 commit(s) that are not the patch series: {head[:7]} (my work);" in line
    assert "make refresh" in line
    assert "FORCE=1" in line
    assert upstream.head() == head


def test_pr_is_applied_with_its_dependencies_on_its_own_branch(upstream):
    proc = upstream.kit_run("apply", PR="docs")
    assert proc.returncode == 0, proc.stderr
    repo = upstream.checkout
    assert git(repo, "branch", "--show-current") == "add-docs"
    assert git(repo, "log", "--format=%s", "upstream/1.0.0..HEAD").splitlines() == [
        "docs: add a section",
        "tests: add the new test",
    ]
    assert "PR docs (2 patch(es) with its dependencies)" in proc.stdout
    proc = upstream.kit_run("apply", PR="tests")
    assert proc.returncode == 0, proc.stderr
    assert git(repo, "branch", "--show-current") == "add-tests"
    assert git(repo, "log", "--format=%s", "upstream/1.0.0..HEAD").splitlines() == ["tests: add the new test"]
    # Back to the whole stack; the PR branches stay.
    proc = upstream.kit_run("apply")
    assert "switched to reparameterized-gradients (you were on add-tests)" in proc.stdout
    assert git(repo, "rev-parse", "add-docs~1^{tree}") == git(repo, "rev-parse", "add-tests^{tree}")


def test_unknown_pr_is_one_line(upstream):
    line = error_line(upstream.kit_run("apply", PR="nope"))
    assert "no PR named 'nope' in the stack (PRs: tests, docs)" in line


def test_independent_pr_is_applied_alone(upstream):
    stack = upstream.kit / "patches/stack.toml"
    stack.write_text(stack.read_text().replace('depends = ["tests"]', "depends = []"))
    # The docs patch does not touch the test file, so it applies without the tests PR.
    assert upstream.kit_run("apply", PR="docs").returncode == 0
    assert git(upstream.checkout, "log", "--format=%s", "upstream/1.0.0..HEAD") == "docs: add a section"


def test_edited_series_is_reapplied_when_checkout_is_the_kits(upstream):
    upstream.kit_run("apply")
    old = upstream.head()
    patch = next((upstream.kit / "patches").glob("0001-*.patch"))
    patch.write_text(patch.read_text().replace("+    assert 1 + 1 == 2", "+    assert 2 + 2 == 4"))
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    assert "re-applying" in proc.stdout
    assert "assert 2 + 2 == 4" in (upstream.checkout / "tests/test_new.py").read_text()
    assert git(upstream.checkout, "rev-parse", "refs/flowjax-kit/previous/reparameterized-gradients") == old


def test_failing_patch_stops_at_last_good(upstream):
    patch = next((upstream.kit / "patches").glob("0002-*.patch"))
    patch.write_text(patch.read_text().replace(" Next section\n", " Other heading\n"))
    line = error_line(upstream.kit_run("apply"))
    assert "0002-docs-add-a-section.patch does not apply" in line
    assert "docs/getting_started.rst" in line
    assert "left at 0001-tests-add-the-new-test.patch" in line
    repo = upstream.checkout
    assert git(repo, "log", "-1", "--format=%s") == "tests: add the new test"
    assert not (repo / ".git" / "rebase-apply").exists()
    assert git(repo, "status", "--porcelain") == ""
    # Fixing the patch and re-running resumes from the last good patch.
    patch.write_text(patch.read_text().replace(" Other heading\n", " Next section\n"))
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    assert "apply 1 patch(es)" in proc.stdout


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda u: u.pin("1.0.0", "0" * 64), "sha256 mismatch"),
        (lambda u: u.pin("9.9.9", "0" * 64), "unknown version, "),
        (lambda u: (u.kit / "patches/series").write_text("0001-x.patch\n"), "0001-x.patch is listed but"),
        (lambda u: (u.kit / "patches/series").write_text(_first(u) * 2), "is listed twice"),
        (lambda u: (u.kit / "patches/series").write_text(_first(u)), "is in "),
        (lambda u: (u.kit / "upstream.toml").write_text("[upstream\n"), "not valid TOML"),
    ],
    ids=[
        "hash-mismatch",
        "unknown-version",
        "missing-entry",
        "duplicate-entry",
        "unlisted-patch",
        "bad-toml",
    ],
)
def test_bad_input_is_one_line_and_leaves_nothing(upstream, setup, message):
    setup(upstream)
    line = error_line(upstream.kit_run("apply"))
    assert message in line
    assert not upstream.checkout.exists()
    assert leftovers(upstream) == []


def _first(u: Upstream) -> str:
    return (u.kit / "patches/series").read_text().splitlines()[0] + "\n"


def test_no_network_is_one_line(upstream):
    line = error_line(upstream.kit_run("apply", KIT_INDEX_URL="http://127.0.0.1:9/simple"))
    assert "cannot reach http://127.0.0.1:9/simple/flowjax/" in line
    assert "no network" in line
    assert leftovers(upstream) == []


def test_hash_mismatch_of_cached_file_keeps_it(upstream):
    upstream.cache.mkdir()
    cached = upstream.cache / "flowjax-1.0.0.tar.gz"
    cached.write_bytes(b"not the release")
    line = error_line(upstream.kit_run("apply"))
    assert f"sha256 mismatch for {cached}" in line
    assert cached.read_bytes() == b"not the release"


def test_non_git_directory_is_not_touched(upstream):
    upstream.checkout.mkdir(parents=True)
    (upstream.checkout / "notes.txt").write_text("mine\n")
    line = error_line(upstream.kit_run("apply", FORCE="1"))
    assert "is not a git repository" in line
    assert (upstream.checkout / "notes.txt").read_text() == "mine\n"


def test_pin_moved_needs_force(upstream):
    upstream.kit_run("apply")
    upstream.pin("1.1.0")
    line = error_line(upstream.kit_run("apply"))
    assert "holds FlowJAX 1.0.0 but the pin is 1.1.0" in line
    assert f"`make apply FORCE=1` moves it, every branch, to {upstream.checkout}-backup-<time>" in line


class TestUserClone:
    def test_branch_from_tag_leaves_other_branches(self, upstream, clone):
        main = git(clone, "rev-parse", "main")
        proc = upstream.kit_run("apply")
        assert proc.returncode == 0, proc.stderr
        assert "created branch reparameterized-gradients from v1.0.0 (you were on main)" in proc.stdout
        assert git(clone, "rev-parse", "main") == main
        assert git(clone, "rev-parse", "HEAD~2") == git(clone, "rev-parse", "v1.0.0")
        assert not (clone / "flowjax/extra.py").exists()
        assert "already applied" in upstream.kit_run("apply").stdout

    def test_dirty_clone_is_refused(self, upstream, clone):
        (clone / "flowjax/extra.py").write_text('"""Edited."""\n')
        line = error_line(upstream.kit_run("apply"))
        assert "uncommitted changes (flowjax/extra.py)" in line
        assert git(clone, "branch", "--show-current") == "main"
        assert (clone / "flowjax/extra.py").read_text() == '"""Edited."""\n'

    def test_missing_tag_names_override(self, upstream, clone):
        git(clone, "tag", "-d", "v1.0.0")
        line = error_line(upstream.kit_run("apply"))
        assert "no v1.0.0 in this clone" in line
        assert "UPSTREAM_REF=" in line
        git(clone, "tag", "release-1.0.0", "HEAD~1")
        proc = upstream.kit_run("apply", UPSTREAM_TAG="release-1.0.0")
        assert proc.returncode == 0, proc.stderr

    def test_force_keeps_old_branch(self, upstream, clone):
        upstream.kit_run("apply")
        (clone / "more.txt").write_text("x\n")
        git(clone, "add", "-A")
        git(clone, "commit", "-qm", "my extra commit")
        mine = git(clone, "rev-parse", "HEAD")
        assert "not the patch series" in error_line(upstream.kit_run("apply"))
        proc = upstream.kit_run("apply", FORCE="1")
        assert proc.returncode == 0, proc.stderr
        backups = git(clone, "branch", "--list", "backup/*", "--format=%(refname:short)").splitlines()
        assert len(backups) == 1
        assert git(clone, "rev-parse", backups[0]) == mine

    def test_the_kits_commits_ignore_your_signing_config(self, upstream, clone):
        git(clone, "config", "commit.gpgsign", "true")
        git(clone, "config", "gpg.program", "false")  # signing would fail
        proc = upstream.kit_run("apply")
        assert proc.returncode == 0, proc.stderr
        assert git(clone, "log", "--format=%G?", "v1.0.0..HEAD").splitlines() == ["N", "N"]

    def test_force_with_pr_keeps_that_prs_old_branch(self, upstream, clone):
        upstream.kit_run("apply", PR="tests")
        (clone / "more.txt").write_text("x\n")
        git(clone, "add", "-A")
        git(clone, "commit", "-qm", "my extra commit")
        mine = git(clone, "rev-parse", "HEAD")
        proc = upstream.kit_run("apply", PR="tests", FORCE="1")
        assert proc.returncode == 0, proc.stderr
        backups = git(clone, "branch", "--list", "backup/*", "--format=%(refname:short)").splitlines()
        assert [b.split("-backup-")[0] for b in backups] == ["backup/add-tests"]
        assert git(clone, "rev-parse", backups[0]) == mine
        assert git(clone, "log", "--format=%s", "v1.0.0..add-tests") == "tests: add the new test"


def test_unwritable_checkout_path_is_one_line(upstream: Upstream, tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = error_line(upstream.kit_run("apply", FLOWJAX_DIR=str(blocker / "flowjax")))
    assert str(blocker) in line


def test_force_verifies_the_sdist_before_it_moves_the_checkout(upstream: Upstream):
    assert upstream.kit_run("apply").returncode == 0
    head = upstream.head()
    cached = upstream.cache / "flowjax-1.0.0.tar.gz"
    cached.write_bytes(b"not the release")
    line = error_line(upstream.kit_run("apply", FORCE="1"))
    assert f"sha256 mismatch for {cached}" in line
    assert upstream.head() == head
    assert leftovers(upstream) == ["flowjax"]  # no backup: the checkout was not moved


def test_dry_run_in_a_clone_names_the_branch_force_would_rename(upstream: Upstream, clone: Path):
    assert upstream.kit_run("apply").returncode == 0
    before = git(clone, "for-each-ref", "--format=%(refname) %(objectname)")
    proc = upstream.kit_run("apply", FORCE="1", DRY_RUN="1", UPSTREAM_REF="main")
    assert proc.returncode == 0, proc.stderr
    assert (
        "kit: plan: rename branch reparameterized-gradients to backup/reparameterized-gradients-backup-"
        in (proc.stdout)
    )
    assert "kit: plan: create branch reparameterized-gradients from main\n" in proc.stdout
    assert proc.stdout.endswith("kit: DRY_RUN=1: the plan above was not carried out\n")
    assert git(clone, "for-each-ref", "--format=%(refname) %(objectname)") == before
