"""`make bump` against the fake upstream (1.0.0 and 1.1.0)."""

from __future__ import annotations

import tomllib

from helpers import error_line, git, run

# The fake series: 0001 adds tests/test_new.py, 0002 inserts a docs block that 1.1.0 no
# longer has room for.
DOCS_PATCH = "0002-docs-add-a-section.patch"


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
