"""`make matrix` against the fake upstream (1.0.0 and 1.1.0), and the known sdists' hashes."""

from __future__ import annotations

import tomllib

from helpers import Upstream, git, run
from kit.paths import Kit
from kit.releases.matrix import default_versions
from kit.series.pin import load_pin

# The fake series: 0001 adds tests/test_new.py, 0002 inserts a docs block that 1.1.0 no
# longer has room for.
DOCS_PATCH = "0002-docs-add-a-section.patch"


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


ISSUE = """# A bug

```python
import flowjax
raise ValueError("bug in " + flowjax.__doc__.split()[2].rstrip("."))
```

```
ValueError: bug in 1.0.0
```
"""


def test_matrix_runs_the_issue_reproducer_on_each_release_without_the_stack(upstream):
    (upstream.kit / "issues").mkdir()
    (upstream.kit / "issues/bug.md").write_text(ISSUE)
    stack = upstream.kit / "patches/stack.toml"
    stack.write_text(
        stack.read_text().replace('name = "tests"\n', 'name = "tests"\nissue = "issues/bug.md"\n')
    )
    run(upstream, "matrix", VERSIONS="1.0.0 1.1.0")
    rows = (upstream.kit / "build/results/matrix.md").read_text().splitlines()
    assert "| issue reproducer on the release |" in rows[2]
    assert "| ValueError: bug in 1.0.0 |" in next(r for r in rows if r.startswith("| 1.0.0 (pin) |"))
    assert "| ValueError: bug in 1.1.0 |" in next(r for r in rows if r.startswith("| 1.1.0 |"))


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
    kit = Kit(upstream.kit, upstream.checkout, upstream.cache, upstream.index.as_uri())
    assert default_versions(kit, load_pin(kit.pin_file)) == ["1.0.0", "1.1.0"]
