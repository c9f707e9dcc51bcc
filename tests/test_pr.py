"""`make pr` against the fake upstream: one branch, patch set and body per PR of the stack."""

from __future__ import annotations

import dataclasses
import json
import re
import sys
import time
from pathlib import Path

from conftest import Upstream, git
from kit.checkout.target import require_target
from kit.evidence import ledger
from kit.evidence.stamps import series_digest, write_stamp
from kit.paths import Kit
from kit.pr import body as prbody
from kit.series.pin import load_pin
from kit.series.stack import load_stack
from test_apply import error_line

AUTHOR = "Ada Lovelace <ada@example.com>"
BASE_IDS = "tests/test_upstream.py::test_upstream\n"
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_new" name="test_new" time="1.5"/>
<testcase classname="tests.test_upstream" name="test_upstream" time="3.0"/>
</testsuite></testsuites>
"""
PIN_JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_upstream" name="test_upstream" time="3.0"><failure message="NotImplementedError"/>
</testcase></testsuite></testsuites>
"""
DOCTEST_SUMMARY = "Doctest summary\n===============\n    7 tests\n    1 failure in tests\n"
ROW = {
    "env": "latest",
    "python": "3.13.0",
    "jax": "0.12.0",
    "jaxlib": "0.12.0",
    "equinox": "0.13.8",
    "paramax": "0.0.5",
    "pytest": "9.2.0",
    "series": "1 passed, 0 failed",
    "upstream_pin": "1 passed, 0 failed",
    "upstream_stack": "1 passed, 0 failed",
    "doctests": "7 passed, 0 failed",
    "sentinels": "-",
    "reproducer_pin": {},
    "reproducer_stack": {},
    "reproducer_stack_ok": True,
    "series_fails_alone": False,
    "seconds": 12.0,
}


def run(upstream: Upstream, *args: str, **env: str):
    return upstream.kit_run(*args, KIT_PYTHON=sys.executable, **env)


def kit_of(upstream: Upstream) -> Kit:
    return Kit(upstream.kit, upstream.checkout, upstream.cache, upstream.index.as_uri())


def results_of_a_run(upstream: Upstream, **facts) -> None:
    """What a full `make test` leaves: JUnit results, doctest output, base node ids, a stamp."""
    results = upstream.kit / "build/results"
    results.mkdir(parents=True, exist_ok=True)
    for name in ("flowjax.xml", "pr-tests.xml"):
        (results / name).write_text(JUNIT)
    (results / "doctest").mkdir(exist_ok=True)
    (results / "doctest/output.txt").write_text(DOCTEST_SUMMARY)
    base = git(upstream.checkout, "rev-parse", "reparameterized-gradients~2")
    ids = upstream.kit / f"build/nodeids/base-nodeids-{base[:12]}.txt"
    ids.parent.mkdir(parents=True, exist_ok=True)
    ids.write_text(BASE_IDS)
    kit = kit_of(upstream)
    pin = load_pin(kit.pin_file)
    target = require_target(kit, pin)
    stamp = {
        "upstream_suite": True,
        "order": "natural",
        "version": "1.0.0",
        "tree": git(upstream.checkout, "rev-parse", "HEAD^{tree}"),
        "exit_code": 0,
        **target.facts(),
    }
    write_stamp(results / "stamp.json", kit, **(stamp | facts))
    ledger.record(kit, series_digest(kit), stamp | facts)


def envs_of_a_run(upstream: Upstream, **row) -> None:
    """What `make envs` leaves: the table, its stamp, and each row's cases (upstream's test fails on 1.0.0)."""
    results = upstream.kit / "build/results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "envs.md").write_text("| env | ... |\n|---|---|\n| latest | ... |\n")
    write_stamp(results / "envs.json", kit_of(upstream), rows=[ROW | row], made="2026-11-26 10:00")
    (results / "envs/latest").mkdir(parents=True, exist_ok=True)
    (results / "envs/latest/pin.xml").write_text(PIN_JUNIT)
    (results / "envs/latest/stack.xml").write_text(JUNIT)


def ready(upstream: Upstream) -> None:
    assert run(upstream, "apply").returncode == 0
    results_of_a_run(upstream)
    envs_of_a_run(upstream)


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


def test_body_lines_for_fixed_tests_other_prngs_and_random_streams(upstream):
    ready(upstream)
    kit = kit_of(upstream)
    pin = load_pin(kit.pin_file)
    stack = load_stack(kit.patches, pin.branch)
    envs_stamp = json.loads((kit.results / "envs.json").read_text())
    facts = prbody.facts(kit, pin, stack, stack.get("tests"), set(BASE_IDS.split()), envs_stamp, {})
    # test_upstream fails on the release under pytest 9.2 and passes with every PR: that is this
    # PR's evidence only where no other PR edits the file.
    assert prbody.fixed_line(facts) is None
    mine = dataclasses.replace(facts, only_mine={"tests/test_upstream.py"})
    assert prbody.fixed_line(mine) == (
        "Under pytest 9.2.0 on Python 3.13.0 / jax 0.12.0: 1 failure on main, 0 with this PR"
        " (run together with my other open PRs, which do not edit these files)."
    )
    new = "tests/test_new.py::test_new"
    results = kit.results
    assert prbody.streams_line(facts) is None
    assert prbody.flake_line(facts) is None
    rows = [
        {"setting": "default", "env": "jax's defaults", "failed_ids": []},
        {"setting": "rbg", "env": "JAX_DEFAULT_PRNG_IMPL=rbg", "failed_ids": []},
        {"setting": "unsafe_rbg", "env": "JAX_DEFAULT_PRNG_IMPL=unsafe_rbg", "failed_ids": [new]},
    ]
    write_stamp(results / "streams.json", kit, rows=rows, cases=[new])
    assert (
        prbody.streams_line(facts) == "Some of its new tests fail under `JAX_DEFAULT_PRNG_IMPL=unsafe_rbg`."
    )
    rows[2]["failed_ids"] = []
    write_stamp(results / "streams.json", kit, rows=rows, cases=[new])
    assert prbody.streams_line(facts) == (
        "Its new tests also pass with JAX's other random number generators: "
        "`JAX_DEFAULT_PRNG_IMPL=rbg` and `JAX_DEFAULT_PRNG_IMPL=unsafe_rbg`."
    )
    write_stamp(results / "flake.json", kit, rates={new: {"runs": 100, "failures": 0}})
    assert prbody.flake_line(facts) == (
        "Its new tests: 0 failures in 100 random streams per test (every `jax.random.key` seed offset)."
    )
    write_stamp(results / "flake.json", kit, rates={new: {"runs": 100, "failures": 3}})
    assert prbody.flake_line(facts) == (
        "Its new tests over 100 random streams per test: 1 test failed at least once (worst: `test_new`, 3 of 100)."
    )
    # Results of another version of the patches say nothing about this one.
    write_stamp(results / "flake.json", kit, series="0" * 64, rates={new: {"runs": 100, "failures": 0}})
    write_stamp(results / "streams.json", kit, series="0" * 64, rows=rows, cases=[new])
    assert prbody.flake_line(facts) is None
    assert prbody.streams_line(facts) is None


def test_a_folded_block_counts_as_one_line():
    assert prbody.line_count("a\n\n<details><summary>x</summary>\n\n| t |\n|---|\n\n</details>\n") == 3


def test_kit_words_are_found_as_words():
    assert prbody.kit_words("The series' tests and a sentinel, on the pin") == ["series", "sentinel", "pin"]
    assert prbody.kit_words("Pinned versions; a spinning top; stacked bars") == []
