"""Mistakes end in one true line, before anything moves: paths, drift, interpreters, variables."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from helpers import SCRIPTS, Upstream, error_line, git

KIT_ROOT = SCRIPTS.parent


@pytest.mark.parametrize("command", ["apply", "test", "refresh", "pr"])
def test_a_flowjax_dir_that_does_not_exist_is_refused(upstream: Upstream, command: str):
    typo = upstream.tmp / "src" / "flowjxa"
    line = error_line(upstream.kit_run(command, FLOWJAX_DIR=str(typo)))
    assert f"FLOWJAX_DIR={typo} does not exist" in line
    assert f"`mkdir -p {typo}` first" in line
    assert not typo.exists()
    assert not typo.parent.exists()


def test_an_empty_flowjax_dir_gets_a_fresh_checkout(upstream: Upstream):
    chosen = upstream.tmp / "src" / "flowjax"
    chosen.mkdir(parents=True)
    proc = upstream.kit_run("apply", FLOWJAX_DIR=str(chosen))
    assert proc.returncode == 0, proc.stderr
    assert git(chosen, "branch", "--show-current") == "reparameterized-gradients"


def test_apply_warns_in_one_line_when_a_source_differs_from_its_patch(upstream: Upstream):
    assert upstream.kit_run("apply").returncode == 0
    source = upstream.kit / "flowjax_tests/test_new.py"
    source.write_text(source.read_text() + "\n\ndef test_more():\n    assert 3 > 2\n")
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    warning = proc.stderr.strip().splitlines()
    assert len(warning) == 1
    assert warning[0].startswith("kit: warning: flowjax_tests/test_new.py differs from what 0001-")
    assert "`make patches`" in warning[0]
    assert "already applied" in proc.stdout
    source.write_text(source.read_text().replace("3 > 2", "4 > 2"))
    (upstream.kit / "docs_additions/added.rst").write_text("Other\n-----\n\n")
    assert "(and 1 more; `make drift` lists them)" in upstream.kit_run("apply").stderr


def test_a_python_without_tomllib_is_one_line():
    # An interpreter older than 3.11, simulated: the check runs before anything imports tomllib.
    code = (
        "import runpy, sys; sys.version_info = (3, 10, 13, 'final', 0); "
        "runpy.run_module('kit', run_name='__main__', alter_sys=True)"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code, "apply"],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SCRIPTS), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"kit: error: {sys.executable} is Python 3.10.13; the kit needs Python 3.11 or newer "
        "(tomllib): run make with PYTHON=python3.11 (or any newer python3)\n"
    )


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        ("pr=docs", "PR=docs"),
        ("flowjax_dir=/x", "FLOWJAX_DIR=/x"),
        ("force=1", "FORCE=1"),
        ("issue=7", "ISSUE=7"),
    ],
)
def test_a_lower_case_variable_is_named_by_the_makefile(given: str, meant: str, tmp_path: Path):
    # `-n`: even the check is before any recipe; the kit is never started.
    proc = subprocess.run(
        ["make", "--no-print-directory", "-C", str(KIT_ROOT), "-n", "apply", given],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert f"*** {given} is not read by the kit: did you mean {meant}?" in proc.stderr
    assert proc.stdout == ""


def test_a_pr_branch_with_your_commits_is_refused_before_switching(upstream: Upstream):
    repo = upstream.checkout
    assert upstream.kit_run("apply", PR="tests").returncode == 0
    (repo / "mine.txt").write_text("work\n")
    git(repo, "add", "mine.txt")
    git(repo, "commit", "-qm", "my work")
    assert upstream.kit_run("apply").returncode == 0  # back to the stack; the commit stays on add-tests
    line = error_line(upstream.kit_run("apply", PR="tests"))
    assert git(repo, "branch", "--show-current") == "reparameterized-gradients"  # nothing moved
    assert "branch add-tests has 1 commit(s) that are not the patch series" in line
    # What FORCE moves, and where: in the kit's checkout, the whole checkout.
    assert f"`make apply FORCE=1` moves this whole checkout, every branch, to {repo}-backup-<time>" in line
    # The way to export them that it names works from here.
    assert f"`git -C {repo} switch add-tests` then `make refresh` exports them" in line
    git(repo, "switch", "-q", "add-tests")
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "changed PR(s) tests" in proc.stdout
    assert (upstream.kit / "patches/0002-my-work.patch").is_file()


def test_force_says_it_renames_the_branch_in_a_clone(upstream: Upstream, clone: Path):
    assert upstream.kit_run("apply").returncode == 0
    (clone / "more.txt").write_text("x\n")
    git(clone, "add", "-A")
    git(clone, "commit", "-qm", "my extra commit")
    line = error_line(upstream.kit_run("apply"))
    assert (
        "`make apply FORCE=1` renames branch reparameterized-gradients to "
        "backup/reparameterized-gradients-backup-<time> and makes it again from v1.0.0" in line
    )
    assert "`make refresh` exports them" in line


def test_uncommitted_edits_on_another_branch_do_not_suggest_refresh(upstream: Upstream, clone: Path):
    (clone / "flowjax/extra.py").write_text('"""Edited."""\n')
    line = error_line(upstream.kit_run("apply"))
    assert "commit or stash them" in line
    assert "make refresh" not in line  # it would refuse on main


def test_an_uncommitted_edit_on_a_pr_branch_gets_advice_that_works(upstream: Upstream):
    repo = upstream.checkout
    assert upstream.kit_run("apply", PR="docs").returncode == 0
    rst = repo / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Some words.", "Edited words."))
    line = error_line(upstream.kit_run("apply"))
    assert "uncommitted changes (docs/getting_started.rst): commit them and run `make refresh`" in line
    assert git(repo, "branch", "--show-current") == "add-docs"
    git(repo, "commit", "-q", "-a", "--amend", "--no-edit")
    proc = upstream.kit_run("refresh")
    assert proc.returncode == 0, proc.stderr
    assert "Edited words." in (upstream.kit / "docs_additions/added.rst").read_text()
