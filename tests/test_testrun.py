"""`make test`'s own logic: the edit loop skips the kit's tests while the kit's code is unchanged."""

from __future__ import annotations

import sys
from pathlib import Path

from kit.paths import Kit
from kit.proof import kit_tests
from kit.proof.pytest import ordered_args
from kit.proof.stages import Stage, run_stages
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


def test_orders_put_the_series_first_or_last():
    assert ordered_args("natural", ["n"], ["u"]) == ["tests"]
    assert ordered_args("new-first", ["n"], ["u"]) == ["n", "u"]
    assert ordered_args("upstream-first", ["n"], ["u"]) == ["u", "n"]


def test_stages_side_by_side_start_with_the_reference_and_keep_their_order(tmp_path, capsys):
    started: list[str] = []

    def stage(name: str, outcome):
        def run():
            started.append(name)
            return outcome

        return Stage(name, run)

    stages = [
        stage("kit", Tally(passed=2)),
        stage("stack", Tally(passed=5)),
        stage("check", ["a problem"]),
        stage("note", "nothing to do"),
    ]
    assert run_stages(stages, tmp_path, reference="stack", workers=1) == 1
    assert started == ["stack", "kit", "check", "note"]  # the reference (longest) stage first
    capsys.readouterr()
    code = run_stages(stages, tmp_path, reference="stack", workers=2)
    out = capsys.readouterr().out
    assert code == 1
    table = out[out.index("stage timings:") :]
    assert [line.split()[1] for line in table.splitlines()[1:5]] == ["kit", "stack", "check", "note"]
    assert "total / stack stage: " in out
    assert "check: a problem" in out
    assert out.rstrip().endswith("summary: 7 passed, 1 failed, 0 skipped")


def test_a_stage_that_fails_unexpectedly_is_that_stages_failure_and_the_summary_follows(tmp_path, capsys):
    def missing_tool():
        raise FileNotFoundError(2, "No such file or directory", "/kit/.venv/bin/ruff")

    def broken():
        raise RuntimeError("a bug in a stage")

    stages = [
        Stage("kit", lambda: Tally(passed=2)),
        Stage("ruff (upstream config)", missing_tool),
        Stage("stack", lambda: Tally(passed=5)),
        Stage("drift", broken),
    ]
    assert run_stages(stages, tmp_path, reference="stack", workers=2) == 1
    out = capsys.readouterr().out
    assert (
        "kit:   ruff (upstream config): FileNotFoundError: [Errno 2] No such file or directory: "
        "'/kit/.venv/bin/ruff'\n" in out
    )
    assert "kit:   drift: RuntimeError: a bug in a stage\n" in out
    table = out[out.index("stage timings:") :].splitlines()[1:5]
    assert [line.split("  ")[-1] for line in table] == [
        "2 passed, 0 failed",
        "1 problem(s)",
        "5 passed, 0 failed",
        "1 problem(s)",
    ]
    assert "kit: failed stages: ruff (upstream config), drift\n" in out
    assert out.rstrip().endswith("summary: 7 passed, 2 failed, 0 skipped")
