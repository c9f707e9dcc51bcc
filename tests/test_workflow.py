"""`make matrix`, `make bump` and `make pr` against the fake upstream (1.0.0 and 1.1.0)."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from conftest import Upstream, git
from kit.config import Kit
from kit.stamp import write_stamp
from test_apply import error_line

# The fake series: 0001 adds tests/test_new.py, 0002 inserts a docs block that 1.1.0 no
# longer has room for.
DOCS_PATCH = "0002-docs-add-a-section.patch"
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_new" name="test_new[Normal]" time="1.5"/>
<testcase classname="tests.test_new" name="test_new[coupling_flow]" time="2.0"/>
<testcase classname="tests.test_new" name="test_known_bug" time="0.1">
<skipped type="pytest.xfail" message="reason: upstream bug"/></testcase>
<testcase classname="tests.test_upstream" name="test_upstream" time="3.0"/>
</testsuite></testsuites>
"""
DOCTEST_SUMMARY = "Doctest summary\n===============\n    7 tests\n    1 failure in tests\n"


def run(upstream: Upstream, *args: str, **env: str):
    return upstream.kit_run(*args, KIT_PYTHON=sys.executable, **env)


def known(upstream: Upstream) -> dict[str, str]:
    return tomllib.loads((upstream.kit / "known-sdists.toml").read_text())["sha256"]


def test_matrix_names_the_patch_that_fails_and_still_runs_the_tests(upstream):
    proc = run(upstream, "matrix", VERSIONS="1.0.0 1.1.0")
    assert proc.returncode == 1, proc.stderr
    table = (upstream.kit / "build/results/matrix.md").read_text()
    assert "| 1.0.0 (pin) | yes | 1 passed, 0 failed, 0 skipped | - |" in table
    row = next(line for line in table.splitlines() if line.startswith("| 1.1.0 |"))
    assert f"no: {DOCS_PATCH} does not apply: patch failed: docs/getting_started.rst" in row
    assert "| 1 passed, 0 failed, 0 skipped |" in row  # the test patch applied before it
    assert table in proc.stdout
    assert "kit: matrix: FlowJAX 1.1.0 ..." in proc.stdout
    # Separate checkouts; the pin's own checkout is not touched.
    assert git(upstream.kit / "build/matrix/1.0.0", "log", "-1", "--format=%s") == "docs: add a section"
    assert not upstream.checkout.exists()


def test_matrix_records_new_hashes_then_verifies_them(upstream):
    first = run(upstream, "matrix", VERSIONS="1.1.0")
    assert "recorded sha256 of flowjax-1.1.0.tar.gz" in first.stdout
    assert known(upstream) == {"1.1.0": upstream.sha256["1.1.0"]}
    again = run(upstream, "matrix", VERSIONS="1.1.0")
    assert "recorded" not in again.stdout
    lock = upstream.kit / "known-sdists.toml"
    lock.write_text(lock.read_text().replace(upstream.sha256["1.1.0"], "0" * 64))
    tampered = run(upstream, "matrix", VERSIONS="1.1.0")
    assert tampered.returncode == 1
    assert "| 1.1.0 | not fetched: sha256 mismatch" in (upstream.kit / "build/results/matrix.md").read_text()


def test_matrix_defaults_to_the_pin_and_the_newest_release(upstream):
    proc = run(upstream, "matrix")
    assert "kit: matrix over FlowJAX 1.0.0, 1.1.0" in proc.stdout


def test_bump_moves_the_pin_and_reports_the_failing_patch(upstream):
    assert run(upstream, "apply").returncode == 0
    patches = {p.name: p.read_bytes() for p in (upstream.kit / "patches").iterdir()}
    proc = run(upstream, "bump", VERSION="1.1.0")
    assert proc.returncode == 1
    assert f"the series does not apply to 1.1.0: {DOCS_PATCH} does not apply" in proc.stdout
    pin = tomllib.loads((upstream.kit / "upstream.toml").read_text())["upstream"]
    assert (pin["version"], pin["sha256"]) == ("1.1.0", upstream.sha256["1.1.0"])
    assert {p.name: p.read_bytes() for p in (upstream.kit / "patches").iterdir()} == patches
    # The old checkout is kept, renamed; the new one stops after the last good patch.
    assert (
        git(upstream.checkout.with_name("flowjax-1.0.0"), "log", "-1", "--format=%s") == "docs: add a section"
    )
    assert git(upstream.checkout, "log", "-1", "--format=%s") == "tests: add the new test"


def test_bump_refuses_a_checkout_with_unexported_work(upstream):
    run(upstream, "apply")
    (upstream.checkout / "notes.txt").write_text("mine\n")
    git(upstream.checkout, "add", "notes.txt")
    git(upstream.checkout, "commit", "-qm", "my work")
    before = (upstream.kit / "upstream.toml").read_text()
    line = error_line(run(upstream, "bump", VERSION="1.1.0"))
    assert "commits not exported to patches/" in line
    assert (upstream.kit / "upstream.toml").read_text() == before
    assert git(upstream.checkout, "log", "-1", "--format=%s") == "my work"


def results_of_a_run(upstream: Upstream, **facts) -> None:
    """What `make test` leaves: JUnit results and a stamp naming the series they came from."""
    results = upstream.kit / "build/results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "flowjax.xml").write_text(JUNIT)
    (results / "doctest").mkdir(exist_ok=True)
    (results / "doctest/output.txt").write_text(DOCTEST_SUMMARY)
    kit = Kit(upstream.kit, upstream.checkout, upstream.cache, upstream.index.as_uri())
    stamp = {
        "upstream_suite": True,
        "order": "natural",
        "version": "1.0.0",
        "tree": git(upstream.checkout, "rev-parse", "HEAD^{tree}"),
        "exit_code": 0,
    }
    write_stamp(results / "stamp.json", kit, **(stamp | facts))


def test_pr_refuses_without_results(upstream):
    run(upstream, "apply")
    line = error_line(run(upstream, "pr"))
    assert "no test results" in line
    assert "make test" in line
    assert not (upstream.kit / "build/pr").exists()


def test_pr_body_is_built_from_the_results(upstream):
    run(upstream, "apply")
    results_of_a_run(upstream)
    proc = run(upstream, "pr")
    assert proc.returncode == 0, proc.stderr
    out = upstream.kit / "build/pr"
    assert sorted(p.name for p in out.glob("*.patch")) == ["0001-tests-add-the-new-test.patch", DOCS_PATCH]
    body = (out / "PR_BODY.md").read_text()
    assert body.startswith("# Reparameterized gradients\n")
    assert "Addresses https://example.com/issues/181" in body
    assert "- **tests: add the new test**: `tests/test_new.py` (+2)" in body
    assert "- **docs: add a section**: `docs/getting_started.rst` (+5)" in body
    assert "- New tests (test_new): 2 passed, 0 failed, 1 xfailed (3.6s)" in body
    assert "same pytest session (order: natural): 1 passed, 0 failed (3.0s)" in body
    assert "upstream's conf.py: 6 doctests passed, 1 failed" in body
    assert "| new | Normal, coupling_flow | - |" in body
    assert "| known bug | - | test_known_bug: xfailed (upstream bug) |" in body
    assert "Not run for this series (`make matrix`)" in body
    assert "the kit never pushes" in proc.stdout
    assert "git -C <your-flowjax-clone> am" in proc.stdout
    assert "gh pr create --repo danielward27/flowjax" in proc.stdout


def test_pr_includes_a_current_matrix(upstream):
    run(upstream, "apply")
    run(upstream, "matrix", VERSIONS="1.0.0")
    results_of_a_run(upstream)
    assert run(upstream, "pr").returncode == 0
    body = (upstream.kit / "build/pr/PR_BODY.md").read_text()
    assert "### Compatibility across releases" in body
    assert "| 1.0.0 (pin) | yes | 1 passed" in body


def test_pr_refuses_results_older_than_the_patches(upstream):
    run(upstream, "apply")
    results_of_a_run(upstream)
    source = upstream.kit / "flowjax_tests/test_new.py"
    source.write_text(source.read_text() + "\n\ndef test_more():\n    assert True\n")
    assert run(upstream, "patches").returncode == 0
    assert "is not exactly patches/series" in error_line(run(upstream, "pr"))
    assert run(upstream, "apply").returncode == 0
    line = error_line(run(upstream, "pr"))
    assert "older than the patches" in line


def test_pr_refuses_a_failed_or_fast_run(upstream):
    run(upstream, "apply")
    results_of_a_run(upstream, upstream_suite=False)
    assert "make test-fast" in error_line(run(upstream, "pr"))
    results_of_a_run(upstream, exit_code=1)
    assert "last `make test` failed" in error_line(run(upstream, "pr"))


def test_pr_in_a_user_clone_prints_the_push(upstream, clone: Path):
    assert run(upstream, "apply").returncode == 0
    results_of_a_run(upstream)
    proc = run(upstream, "pr")
    assert proc.returncode == 0, proc.stderr
    assert f"git -C {clone} push <your-fork-remote> reparameterized-gradients" in proc.stdout
    assert git(clone, "branch", "--show-current") == "reparameterized-gradients"
