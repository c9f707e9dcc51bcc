"""`make refresh`: commits exported to the patches and the sources, round trips, refusals."""

from __future__ import annotations

from pathlib import Path

from helpers import DOC_BLOCK, NEW_TEST, Upstream, error_line, git


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file of the kit, its build/ (the checkout, results) left out."""
    files = [p for p in sorted(root.rglob("*")) if p.is_file() and p.relative_to(root).parts[0] != "build"]
    return {str(p.relative_to(root)): p.read_bytes() for p in files}


def test_refresh_round_trip_changes_no_byte(upstream):
    upstream.kit_run("apply")
    assert upstream.kit_run("refresh").returncode == 0  # normalise the hand-made patches
    before = snapshot(upstream.kit)
    upstream.kit_run("apply", FORCE="1")
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "wrote" not in proc.stdout
    assert snapshot(upstream.kit) == before


def test_refresh_exports_an_amended_commit(upstream):
    upstream.kit_run("apply")
    repo = upstream.checkout
    rst = repo / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Some words.", "Better words."))
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "wrote patches/0002-docs-add-a-section.patch" in proc.stdout
    assert (upstream.kit / "docs_additions/added.rst").read_text() == DOC_BLOCK.replace("Some", "Better")
    assert upstream.kit_run("drift").returncode == 0
    assert "already applied" in upstream.kit_run("apply").stdout


def test_refresh_puts_a_new_commit_in_the_pr_before_it(upstream):
    upstream.kit_run("apply")
    repo = upstream.checkout
    (repo / "tests/test_new.py").write_text(NEW_TEST + "\n\ndef test_more():\n    assert 2 * 2 == 4\n")
    git(repo, "commit", "-q", "-a", "-m", "tests: one more test")
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "wrote patches/stack.toml" in proc.stdout
    stack = (upstream.kit / "patches/stack.toml").read_text()
    assert '    "0002-docs-add-a-section.patch",\n    "0003-tests-one-more-test.patch",\n]' in stack
    assert stack.startswith("# The fake stack.\n")
    # The source is what its own PR's patch creates; the later commit lives in its patch.
    assert (upstream.kit / "flowjax_tests/test_new.py").read_text() == NEW_TEST
    assert upstream.kit_run("drift").returncode == 0


def test_refresh_keeps_a_reworded_commit_in_its_pr(upstream):
    upstream.kit_run("apply")
    repo = upstream.checkout
    git(repo, "commit", "-q", "--amend", "-m", "docs: add a better section")
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "removed patches/0002-docs-add-a-section.patch" in proc.stdout
    stack = (upstream.kit / "patches/stack.toml").read_text()
    assert 'name = "docs"' in stack
    assert '"0002-docs-add-a-better-section.patch"' in stack


def test_a_block_at_the_end_of_a_file_rebuilds(upstream):
    upstream.kit_run("apply")
    pin = upstream.kit / "upstream.toml"
    # Declare the docs block as appended to the end of the page instead.
    pin.write_text(pin.read_text().replace('before = "Next section"\n', ""))
    patch = next((upstream.kit / "patches").glob("0002-*.patch"))
    rst = upstream.checkout / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace(DOC_BLOCK, "") + DOC_BLOCK)
    git(upstream.checkout, "commit", "-q", "-a", "--amend", "--no-edit")
    assert upstream.kit_run("refresh").returncode == 0
    assert "+Added section" in patch.read_text()
    block = upstream.kit / "docs_additions/added.rst"
    assert block.read_text() == DOC_BLOCK
    block.write_text(DOC_BLOCK.replace("Some words.", "At the end."))
    assert "differs from what" in upstream.kit_run("drift").stderr
    assert upstream.kit_run("patches").returncode == 0
    assert upstream.kit_run("apply").returncode == 0
    assert rst.read_text().endswith("At the end.\n\n")


def test_refresh_will_not_overwrite_an_edited_source(upstream: Upstream):
    upstream.kit_run("apply")
    src = upstream.kit / "flowjax_tests/test_new.py"
    src.write_text("# edited in the kit, not yet in a patch\n")
    line = error_line(upstream.kit_run("refresh"))
    assert "flowjax_tests/test_new.py has edits that are not in the series or the checkout" in line
    assert src.read_text() == "# edited in the kit, not yet in a patch\n"


def test_refresh_refuses_uncommitted_checkout_edits(upstream):
    upstream.kit_run("apply")
    (upstream.checkout / "tests/test_new.py").write_text("# wip\n")
    line = error_line(upstream.kit_run("refresh"))
    assert "uncommitted changes (tests/test_new.py)" in line
    assert (upstream.checkout / "tests/test_new.py").read_text() == "# wip\n"
