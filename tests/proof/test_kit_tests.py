"""`make test`'s kit-tests stage: the edit loop skips them while the kit's code is unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

from kit.paths import Kit
from kit.proof import kit_tests
from kit.proof.tally import Tally


def tiny_kit(tmp_path: Path) -> Kit:
    (tmp_path / "scripts/kit").mkdir(parents=True)
    (tmp_path / "scripts/kit/mod.py").write_text("X = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_tiny.py").write_text("def test_tiny():\n    assert True\n")
    return Kit(tmp_path, tmp_path / "checkout", tmp_path / "cache", "file:///nowhere")


def test_fast_mode_skips_the_kit_tests_until_kit_code_changes(tmp_path):
    kit = tiny_kit(tmp_path)
    python = Path(sys.executable)
    first = kit_tests.kit_tests(kit, python, fast=True)  # no stamp yet: they run
    assert isinstance(first, Tally)
    assert (first.passed, first.failed) == (1, 0)
    assert kit_tests.kit_tests(kit, python, fast=True) == "kit code unchanged since its last green run"
    assert isinstance(kit_tests.kit_tests(kit, python, fast=False), Tally)  # `make test` always runs them
    (tmp_path / "scripts/kit/mod.py").write_text("X = 2\n")
    assert isinstance(kit_tests.kit_tests(kit, python, fast=True), Tally)


def test_a_red_run_is_not_skipped(tmp_path):
    kit = tiny_kit(tmp_path)
    (tmp_path / "tests/test_tiny.py").write_text("def test_tiny():\n    assert False\n")
    python = Path(sys.executable)
    assert kit_tests.kit_tests(kit, python, fast=True).failed == 1
    assert isinstance(kit_tests.kit_tests(kit, python, fast=True), Tally)
