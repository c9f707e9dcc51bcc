"""`make envs`' parts: an environment that cannot be built, the new cases before upstream's."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from kit import options
from kit.envs import ci, interpreters
from kit.log import KitError
from kit.paths import Kit

PY = Path(sys.executable)


def test_an_env_without_its_python_is_a_row_that_says_why(monkeypatch, tmp_path):
    kit = Kit(tmp_path, tmp_path / "checkout", tmp_path / "cache", "file:///nowhere")
    monkeypatch.setitem(ci.ENVS, "future", (">=3.99", "highest"))
    with pytest.raises(KitError, match=r"no Python >=3\.99 found"):
        ci.build(kit, "future", tmp_path, interpreters.find(options.parse({"KIT_PYTHONS": str(PY)})))
    table = ci.markdown([{"env": "future", "error": "no Python >=3.99 found (PATH, pyenv, or KIT_PYTHONS)"}])
    assert "| future | not built: no Python >=3.99 found (PATH, pyenv, or KIT_PYTHONS) |" in table


def test_each_env_runs_the_new_cases_before_upstreams(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_old(): pass\n\ndef test_new(): pass\n")
    args = ci.stack_args(PY, tmp_path, ["tests/test_a.py"], {"tests/test_a.py::test_old"}, dict(os.environ))
    assert args == ["tests/test_a.py::test_new", "tests/test_a.py::test_old"]
    (tmp_path / "tests" / "test_b.py").write_text("import no_such_module\n")
    paths = ["tests/test_a.py", "tests/test_b.py"]
    assert ci.stack_args(PY, tmp_path, paths, set(), dict(os.environ)) == paths
