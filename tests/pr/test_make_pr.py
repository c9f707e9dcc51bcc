"""`make pr` against the fake upstream: one branch, patch set and body per PR of the stack."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

from helpers import AUTHOR, envs_of_a_run, error_line, git, kit_of, ready, results_of_a_run, run
from kit.evidence.stamps import write_stamp
from kit.pr import body as prbody


def test_pr_writes_a_branch_patches_and_body_per_pr(upstream):
    ready(upstream)
    proc = run(upstream, "pr", AUTHOR=AUTHOR)
    assert proc.returncode == 0, proc.stderr
    out = upstream.kit / "build/pr"
    assert sorted(p.name for p in out.iterdir()) == ["docs", "tests"]
    # Each PR's folder holds only its own commits.
    assert [p.name for p in sorted((out / "tests").glob("*.patch"))] == ["0001-tests-add-the-new-test.patch"]
    assert [p.name for p in sorted((out / "docs").glob("*.patch"))] == ["0001-docs-add-a-section.patch"]
    repo = upstream.checkout
    today = time.strftime("%Y-%m-%d")
    for branch, n in (("add-tests", 1), ("add-docs", 2)):
        log = git(
            repo, "log", "--format=%an <%ae>|%cn <%ce>|%ad", "--date=short", f"upstream/1.0.0..{branch}"
        )
        assert log.splitlines() == [f"{AUTHOR}|{AUTHOR}|{today}"] * n
    for patch in out.glob("*/*.patch"):
        assert "kit@example.com" not in patch.read_text()
        assert "flowjax-kit" not in patch.read_text()
    body = (out / "docs/PR_BODY.md").read_text()
    assert body.startswith("Tested:\n")  # no summary in its stack.toml; the title is the PR's, not the body's
    assert 'Depends on "Add the new test": merge that first' in body
    # docs is not provable alone (its closure is everything): its proof is the run of every PR,
    # and the test the PR it depends on adds is not its own.
    assert "- On 1.0.0 with the PRs it depends on: 2 tests of the code it touches pass.\n" in body
    assert "new tests" not in body.lower()
    assert "<details>" not in body  # it edits no test file of its own and adds no test
    assert "- `sphinx-build -b doctest` over docs/: 6 passed, **1 failed**.\n" in body
    tests_body = (out / "tests/PR_BODY.md").read_text()
    assert tests_body.startswith("Adds a test.\n\nTested:\n")
    assert "Depends on" not in tests_body
    assert (
        "- On 1.0.0 with only this change: 2 tests of the code it touches pass, 1 of them new.\n"
        in tests_body
    )
    assert "- Its new tests also pass under pytest 9.2.0 on Python 3.13.0 / jax 0.12.0.\n" in tests_body
    assert (
        "- The full suite passes (2 tests) with this and my other open PRs applied together.\n" in tests_body
    )
    assert "- The new tests take 1.5s, 50.0% of the rest of the suite's time.\n" in tests_body
    assert "sphinx-build" not in tests_body  # it changes no docs
    # The environment table is folded, in words a maintainer uses.
    assert "<details><summary>Tests by environment</summary>" in tests_body
    assert "| Python | jax | equinox | pytest | its new tests |" in tests_body
    assert "| 3.13.0 | 0.12.0 | 0.13.8 | 9.2.0 | 1 pass |" in tests_body
    for text in (body, tests_body):
        assert prbody.line_count(text) <= prbody.MAX_LINES
        assert prbody.kit_words(text) == []
        assert not re.search(r"(^|\D)0 (passed|tests|new)", text)  # no line that counts nothing
    for name, text in (("tests", tests_body), ("docs", body)):
        assert (
            f"PR {name}: PR_BODY.md, {prbody.line_count(text)} lines (the environment table folded)\n"
            in proc.stdout
        )
    assert "PR docs: branch add-docs, 1 file(s) +5 -0" in proc.stdout
    # The sdist checkout's history is not upstream's: no push command, one line saying what works.
    assert "push" not in proc.stdout.replace("nothing to push", "")
    assert "gh pr create" not in proc.stdout
    assert "not danielward27/flowjax's history" in proc.stdout
    assert "make apply FLOWJAX_DIR=<your clone> UPSTREAM_REF=main" in proc.stdout
    assert body.rstrip().endswith(
        "Proven on 1.0.0 (PyPI sdist): the full test suite passes on each with this PR and the others applied."
    )


def test_pr_takes_the_identity_from_git_config(upstream):
    ready(upstream)
    git(upstream.checkout, "config", "user.name", "Grace Hopper")
    git(upstream.checkout, "config", "user.email", "grace@example.com")
    assert run(upstream, "pr").returncode == 0
    assert (
        git(upstream.checkout, "log", "-1", "--format=%an <%ae>", "add-tests")
        == "Grace Hopper <grace@example.com>"
    )


def test_pr_refuses_without_an_identity_or_with_the_kits(upstream):
    ready(upstream)
    line = error_line(run(upstream, "pr"))
    assert "no contributor identity" in line
    assert "AUTHOR=" in line
    assert "the kit's placeholder" in error_line(run(upstream, "pr", AUTHOR="Kit <kit@example.com>"))
    assert "is not of the form" in error_line(run(upstream, "pr", AUTHOR="just a name"))
    assert not (upstream.kit / "build/pr").exists()
    assert git(upstream.checkout, "branch", "--list", "add-*") == ""


def test_pr_will_not_overwrite_a_branch_with_your_commits(upstream):
    ready(upstream)
    repo = upstream.checkout
    git(repo, "branch", "add-tests", "upstream/1.0.0")
    mine = git(repo, "rev-parse", "add-tests")
    line = error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    assert "branch add-tests in" in line
    assert "has commits the kit did not write" in line
    assert git(repo, "rev-parse", "add-tests") == mine
    assert not (upstream.kit / "build/pr").exists()  # refused before anything was written
    # A branch the kit wrote (by `make apply PR=` or `make pr`) is rewritten.
    git(repo, "branch", "-D", "add-tests")
    assert run(upstream, "apply", PR="tests").returncode == 0
    assert run(upstream, "apply").returncode == 0
    assert run(upstream, "pr", AUTHOR=AUTHOR).returncode == 0
    assert run(upstream, "pr", AUTHOR=AUTHOR).returncode == 0
    assert git(repo, "log", "-1", "--format=%ae", "add-tests") == "ada@example.com"


def test_pr_writes_the_issue_text_with_versions(upstream):
    issue = upstream.kit / "issues/x.md"
    issue.parent.mkdir()
    issue.write_text(
        "# It breaks\n\n```python\nraise ValueError('x')\n```\n\n```\nValueError: x\n```\n\n{versions}\n"
    )
    stack = upstream.kit / "patches/stack.toml"
    stack.write_text(
        stack.read_text().replace(
            'summary = """\nAdds a test.', 'issue = "issues/x.md"\nsummary = """\nAdds a test.'
        )
    )
    assert run(upstream, "apply").returncode == 0
    results_of_a_run(upstream)
    envs_of_a_run(upstream, reproducer_pin={"tests": "ValueError: x"}, reproducer_stack={"tests": "ran"})
    # A row where the reproducer failed otherwise (flowjax did not import) is not listed.
    stamp = upstream.kit / "build/results/envs.json"
    rows = json.loads(stamp.read_text())["rows"]
    rows.append(rows[0] | {"env": "lowest", "jax": "0.7.0", "reproducer_pin": {"tests": "AttributeError: y"}})
    write_stamp(stamp, kit_of(upstream), rows=rows, made="2026-11-26 10:00")
    (upstream.kit / "build/results/reproducer-tests.txt").write_text(
        "on upstream/1.0.0: ValueError: x; with this PR: ran\n"
    )
    proc = run(upstream, "pr", AUTHOR=AUTHOR)
    assert proc.returncode == 0, proc.stderr
    # Filing the issue comes first, then the PRs; the fix's body gets "Fixes #n" once it is filed.
    issue_md = upstream.kit / "build/pr/tests/ISSUE.md"
    filing = f"  gh issue create --repo danielward27/flowjax --title 'It breaks' --body-file {issue_md}\n"
    assert filing in proc.stdout
    assert "nothing to push from here" in proc.stdout  # the sdist checkout: issue, not PRs
    assert "make pr ISSUE=<the number gh prints>" in proc.stdout
    assert "Fixes #" not in (upstream.kit / "build/pr/tests/PR_BODY.md").read_text()
    text = issue_md.read_text()
    assert text.startswith("# It breaks\n")
    assert "- flowjax 1.0.0, Python 3.13.0, jax 0.12.0, equinox 0.13.8\n" in text
    assert "0.7.0" not in text
    assert (
        "- The example from the issue raises `ValueError: x` on 1.0.0; with this PR: ran.\n"
        in (upstream.kit / "build/pr/tests/PR_BODY.md").read_text()
    )
    proc = run(upstream, "pr", AUTHOR=AUTHOR, ISSUE="245")
    assert proc.returncode == 0, proc.stderr
    assert (upstream.kit / "build/pr/tests/PR_BODY.md").read_text().endswith("\n\nFixes #245.\n")
    assert "Fixes #" not in (upstream.kit / "build/pr/docs/PR_BODY.md").read_text()
    assert "gh issue create" not in proc.stdout
    assert "ISSUE='abc' is not an issue number" in error_line(run(upstream, "pr", AUTHOR=AUTHOR, ISSUE="abc"))


def test_pr_refuses_without_results(upstream):
    run(upstream, "apply")
    line = error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    assert "no test results" in line
    assert not (upstream.kit / "build/pr").exists()


def test_pr_refuses_results_older_than_the_patches(upstream):
    ready(upstream)
    source = upstream.kit / "flowjax_tests/test_new.py"
    source.write_text(source.read_text() + "\n\ndef test_more():\n    assert True\n")
    assert run(upstream, "patches").returncode == 0
    assert "is not exactly patches/series" in error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    assert run(upstream, "apply").returncode == 0
    assert "older than the patches" in error_line(run(upstream, "pr", AUTHOR=AUTHOR))


def test_pr_refuses_a_failed_or_fast_run(upstream):
    ready(upstream)
    results_of_a_run(upstream, upstream_suite=False)
    assert "make test-fast" in error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    results_of_a_run(upstream, exit_code=1)
    assert "last `make test` failed" in error_line(run(upstream, "pr", AUTHOR=AUTHOR))


def test_pr_refuses_a_missing_stale_or_failing_env_matrix(upstream):
    assert run(upstream, "apply").returncode == 0
    results_of_a_run(upstream)
    assert "no environment matrix: run `make envs`" in error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    envs_of_a_run(upstream, series="0 passed, 1 failed", series_fails_alone=True)
    line = error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    assert "in env latest the series' tests fail (0 passed, 1 failed) while upstream's pass" in line
    envs_of_a_run(upstream, upstream_stack="1 passed, 2 failed", upstream_worse=True)
    assert "upstream's tests do worse with the stack (1 passed, 2 failed) than on the pin" in error_line(
        run(upstream, "pr", AUTHOR=AUTHOR)
    )
    envs_of_a_run(upstream, reproducer_stack_ok=False, reproducer_fails_alone=True)
    assert "the issue reproducer still fails with the stack" in error_line(run(upstream, "pr", AUTHOR=AUTHOR))
    # Where upstream's own tests fail too (e.g. equinox cannot import), it is not the stack's fault.
    envs_of_a_run(
        upstream, series="0 passed, 1 failed", upstream_stack="0 passed, 1 failed", reproducer_stack_ok=False
    )
    assert run(upstream, "pr", AUTHOR=AUTHOR).returncode == 0
    envs_of_a_run(upstream)
    stack = upstream.kit / "patches/stack.toml"
    stack.write_text(stack.read_text().replace("Adds a test.", "Adds one test."))
    results_of_a_run(upstream)  # the results follow the series; the env matrix does not
    assert "environment matrix is stale" in error_line(run(upstream, "pr", AUTHOR=AUTHOR))


def test_pr_in_a_user_clone_prints_the_push(upstream, clone: Path):
    ready(upstream)
    proc = run(upstream, "pr", AUTHOR=AUTHOR)
    assert proc.returncode == 0, proc.stderr
    assert f"git -C {clone} push <your-fork-remote> add-docs" in proc.stdout
    assert (
        "gh pr create --repo danielward27/flowjax --base main --head <your-github-user>:add-docs"
        in proc.stdout
    )
    assert "branches on v1.0.0, where `make test` proved them" in proc.stdout
    assert git(clone, "branch", "--show-current") == "reparameterized-gradients"
    assert git(clone, "log", "-1", "--format=%ae", "add-docs") == "ada@example.com"
