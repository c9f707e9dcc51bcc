"""`make patches`: the patches rebuilt from the sources, a test file and a docs block."""

from __future__ import annotations

from helpers import DOC_BLOCK


def test_drift_names_the_file_and_patches_rebuilds(upstream):
    upstream.kit_run("apply")
    src = upstream.kit / "flowjax_tests/test_new.py"
    src.write_text(src.read_text() + "\n\ndef test_more():\n    assert 3 > 2\n")
    proc = upstream.kit_run("drift")
    assert proc.returncode == 1
    assert (
        "flowjax_tests/test_new.py differs from what 0001-tests-add-the-new-test.patch adds to tests/test_new.py"
        in proc.stderr
    )
    assert upstream.kit_run("patches").returncode == 0
    assert upstream.kit_run("drift").returncode == 0
    # The rebuilt series applies on the kit's own checkout (it held no user work).
    proc = upstream.kit_run("apply")
    assert proc.returncode == 0, proc.stderr
    assert (upstream.checkout / "tests/test_new.py").read_text() == src.read_text()


def test_docs_block_rebuilds_as_insertion(upstream):
    upstream.kit_run("apply")
    block = upstream.kit / "docs_additions/added.rst"
    block.write_text(DOC_BLOCK.replace("Some words.", "Other words,\nover two lines."))
    assert upstream.kit_run("drift").returncode == 1
    proc = upstream.kit_run("patches")
    assert proc.returncode == 0, proc.stderr
    assert upstream.kit_run("apply").returncode == 0
    rst = (upstream.checkout / "docs/getting_started.rst").read_text()
    assert block.read_text() + "Next section\n" in rst
    assert rst.startswith("Getting started\n")
