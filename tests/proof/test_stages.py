"""`make test`'s stages: side by side, in order in the table, a stage's own failure, the summary."""

from __future__ import annotations

from kit.proof.stages import Stage, run_stages
from kit.proof.tally import Tally


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
