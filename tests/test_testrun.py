"""`make test`'s own logic: the edit loop skips the kit's tests while the kit's code is unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

from kit import pytest_run, testrun
from kit.config import Kit
from kit.tally import Tally


def tiny_kit(tmp_path: Path) -> Kit:
    (tmp_path / "scripts/kit").mkdir(parents=True)
    (tmp_path / "scripts/kit/mod.py").write_text("X = 1\n")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests/test_tiny.py").write_text("def test_tiny():\n    assert True\n")
    return Kit(tmp_path, tmp_path / "checkout", tmp_path / "cache", "file:///nowhere")


def test_fast_mode_skips_the_kit_tests_until_kit_code_changes(tmp_path):
    kit = tiny_kit(tmp_path)
    python = Path(sys.executable)
    first = testrun.kit_tests(kit, python, fast=True)  # no stamp yet: they run
    assert isinstance(first, Tally)
    assert (first.passed, first.failed) == (1, 0)
    assert testrun.kit_tests(kit, python, fast=True) == "kit code unchanged since its last green run"
    assert isinstance(testrun.kit_tests(kit, python, fast=False), Tally)  # `make test` always runs them
    (tmp_path / "scripts/kit/mod.py").write_text("X = 2\n")
    assert isinstance(testrun.kit_tests(kit, python, fast=True), Tally)


def test_a_red_run_is_not_skipped(tmp_path):
    kit = tiny_kit(tmp_path)
    (tmp_path / "tests/test_tiny.py").write_text("def test_tiny():\n    assert False\n")
    python = Path(sys.executable)
    assert testrun.kit_tests(kit, python, fast=True).failed == 1
    assert isinstance(testrun.kit_tests(kit, python, fast=True), Tally)


def test_orders_put_the_series_first_or_last():
    assert pytest_run.ordered_args("natural", ["n"], ["u"]) == ["tests"]
    assert pytest_run.ordered_args("new-first", ["n"], ["u"]) == ["n", "u"]
    assert pytest_run.ordered_args("upstream-first", ["n"], ["u"]) == ["u", "n"]
