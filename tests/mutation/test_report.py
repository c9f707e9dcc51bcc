"""The mutation report's parts: applying an edit, choosing mutations, comparing sample values."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from kit.log import KitError
from kit.mutation import report
from kit.mutation.catalogue import CATALOGUE, SG, Mutation

MUTATION = Mutation("m", "pkg/mod.py", "return x * s", f"return x * {SG}(s)", "test")


def write(root: Path, text: str) -> Path:
    path = root / "pkg/mod.py"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return path


def test_mutation_edits_the_copy_once_and_imports_jax_last(tmp_path):
    path = write(tmp_path, "def f(x, s):\n    return x * s\n")
    report.apply_mutation(tmp_path, MUTATION)
    assert path.read_text() == f"def f(x, s):\n    return x * {SG}(s)\n{report.IMPORT_LINE}"


@pytest.mark.parametrize("text", ["def f(x, s):\n    return x\n", "return x * s\nreturn x * s\n"])
def test_mutation_must_match_exactly_once(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(KitError, match="expected text found [02] times"):
        report.apply_mutation(tmp_path, MUTATION)
    assert path.read_text() == text


def test_catalogue_problems_name_the_mutation(tmp_path):
    problems = report.catalogue_problems(tmp_path)
    assert len(problems) == len(CATALOGUE)
    assert problems[0] == f"mutation {CATALOGUE[0].name}: its text occurs 0 times in {CATALOGUE[0].path}"


def test_catalogue_is_large_named_uniquely_and_breaks_only_gradients():
    assert len(CATALOGUE) >= 15
    assert len({m.name for m in CATALOGUE}) == len(CATALOGUE)
    assert len({m.path for m in CATALOGUE}) >= 6  # distributions, bijections and flows' parts
    for m in CATALOGUE:
        assert m.old != m.new
        # Only value-preserving edits: a stop_gradient, or an edit of a custom JVP's tangent.
        assert SG in m.new or ("tangent" in m.old and m.path.endswith("bijections/utils.py")), m.name
    # Wrong but not zero: doubled, halved and flipped gradients, not only zeroed ones.
    for kind in ("doubled", "halved", "flipped", "stop-gradient", "dropped"):
        assert any(kind in m.name for m in CATALOGUE), kind


def test_select_names_or_everything():
    assert report.select([]) == CATALOGUE
    assert report.select([CATALOGUE[2].name]) == (CATALOGUE[2],)
    with pytest.raises(KitError, match="no mutation named 'nope'"):
        report.select(["nope"])


def test_changed_values_are_named():
    a = {"Normal/sample": np.array([1.0, 2.0]), "flow/x": np.array([3.0])}
    same = {"Normal/sample": np.array([1.0, 2.0 + 1e-15]), "flow/x": np.array([3.0])}
    moved = {"Normal/sample": np.array([1.0, 2.0]), "flow/x": np.array([3.1])}
    assert report.same_values(a, same) == []
    assert report.same_values(a, moved) == ["flow/x"]
    assert report.same_values(a, {"flow/x": np.array([3.0])}) == ["Normal/sample"]


def test_upstream_tests_follow_the_mutated_module(tmp_path):
    assert report.upstream_tests_for("flowjax/bijections/affine.py", False, tmp_path) == [
        "tests/test_bijections"
    ]
    assert report.upstream_tests_for("flowjax/distributions.py", False, tmp_path) == [
        "tests/test_distributions.py"
    ]
    assert report.upstream_tests_for("flowjax/distributions.py", True, tmp_path) == ["tests"]


def test_probe_failure_names_the_exception_not_jax_boilerplate():
    stderr = (
        "Traceback (most recent call last):\n  File 'x.py', line 1\n"
        "ValueError: output shape (2,) does not match\n--------------------\n"
        "For simplicity, JAX has removed its internal frames.\n"
    )
    assert report.error_line(stderr) == "ValueError: output shape (2,) does not match"
    assert report.error_line("killed\n") == "killed"
