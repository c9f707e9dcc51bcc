"""The environment matrix's parts: interpreters, what a change touches, the table, the uv cache."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from conftest import git
from kit import options
from kit.envs import ci, interpreters, venv
from kit.log import KitError
from kit.paths import Kit, load_kit, tools_cache
from kit.proof import selection
from kit.proof.tally import Case, read_cases

PY = Path(sys.executable)
HERE = tuple(sys.version_info[:2])


def test_interpreters_come_from_kit_pythons_and_are_picked_by_version():
    found = interpreters.find(options.parse({"KIT_PYTHONS": f"{PY} {PY} /no/such/python"}))
    assert [i.version[:2] for i in found] == [HERE]  # deduplicated, missing ones dropped
    assert interpreters.pick(found, f"{HERE[0]}.{HERE[1]}").path == PY
    assert interpreters.pick(found, f">={HERE[0]}.{HERE[1] + 1}") is None


def test_an_env_without_its_python_is_a_row_that_says_why(monkeypatch, tmp_path):
    kit = Kit(tmp_path, tmp_path / "checkout", tmp_path / "cache", "file:///nowhere")
    monkeypatch.setitem(ci.ENVS, "future", (">=3.99", "highest"))
    with pytest.raises(KitError, match=r"no Python >=3\.99 found"):
        ci.build(kit, "future", tmp_path, interpreters.find(options.parse({"KIT_PYTHONS": str(PY)})))
    table = ci.markdown([{"env": "future", "error": "no Python >=3.99 found (PATH, pyenv, or KIT_PYTHONS)"}])
    assert "| future | not built: no Python >=3.99 found (PATH, pyenv, or KIT_PYTHONS) |" in table


def test_touched_tests_map_modules_to_their_tests(tmp_path):
    repo = tmp_path / "repo"
    for path in (
        "flowjax/bijections/utils.py",
        "flowjax/other.py",
        "tests/test_bijections/test_x.py",
        "tests/test_other.py",
        "tests/test_flows.py",
        "docs/index.rst",
    ):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text("x = 1\n")
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    for path in ("flowjax/bijections/utils.py", "tests/test_bijections/test_x.py", "tests/test_flows.py"):
        (repo / path).write_text("x = 2\n")
    git(repo, "commit", "-qam", "change")
    # test_x.py is inside tests/test_bijections, which the change to utils.py brings in.
    assert selection.touched_tests(repo, "HEAD~1", "HEAD") == ["tests/test_bijections", "tests/test_flows.py"]
    assert not selection.touches_docs(repo, "HEAD~1", "HEAD~1")
    (repo / "flowjax/other.py").write_text("x = 3\n")
    git(repo, "commit", "-qam", "other")
    assert selection.touched_tests(repo, "HEAD~1", "HEAD") == ["tests/test_other.py"]
    assert selection.touches_docs(repo, "HEAD~1", "HEAD")


def test_new_cases_are_those_the_base_lacks():
    cases = [
        Case("test_flows", "test_flow_sample", "2-planar", "passed", 1.0, path="tests/test_flows.py"),
        Case(
            "test_flows", "test_flow_sample", "2-planar_leaky_relu", "passed", 1.0, path="tests/test_flows.py"
        ),
        Case("test_flows", "test_flow_sample_gradient", "BNAF", "failed", 2.0, path="tests/test_flows.py"),
    ]
    new, upstream = selection.split(cases, {"tests/test_flows.py::test_flow_sample[2-planar]"})
    assert [c.name for c in new] == [
        "test_flow_sample[2-planar_leaky_relu]",
        "test_flow_sample_gradient[BNAF]",
    ]
    assert [c.name for c in upstream] == ["test_flow_sample[2-planar]"]


def test_a_file_that_fails_to_import_is_upstreams_and_says_why(tmp_path):
    xml = tmp_path / "r.xml"
    xml.write_text(
        '<testsuites><testsuite><testcase classname="" name="tests.test_flows" time="0">'
        '<error message="collection failure">tests/test_flows.py:1: in module\n'
        "E   AttributeError: module 'jax.core' has no attribute 'Primitive'</error></testcase>"
        '<testcase classname="tests.test_flows" name="test_new" time="1"/></testsuite></testsuites>'
    )
    cases = read_cases(xml)
    new, upstream = selection.split(cases, set())
    assert [c.name for c in new] == ["test_new"]
    assert upstream[0].collection_error
    assert ci._cases_cell(upstream) == (
        "0 passed, 1 failed (1 files fail to import: AttributeError: module 'jax.core' has no attribute 'Primitive')"
    )


def test_each_env_runs_the_new_cases_before_upstreams(tmp_path):
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_a.py").write_text("def test_old(): pass\n\ndef test_new(): pass\n")
    args = ci.stack_args(PY, tmp_path, ["tests/test_a.py"], {"tests/test_a.py::test_old"}, dict(os.environ))
    assert args == ["tests/test_a.py::test_new", "tests/test_a.py::test_old"]
    (tmp_path / "tests" / "test_b.py").write_text("import no_such_module\n")
    paths = ["tests/test_a.py", "tests/test_b.py"]
    assert ci.stack_args(PY, tmp_path, paths, set(), dict(os.environ)) == paths


def test_bootstrapped_uv_is_shared_from_the_user_cache(monkeypatch, tmp_path):
    cache = tmp_path / "cache"
    monkeypatch.setenv("PATH", "/nonexistent")
    binary = cache / f"uv-{venv.uv_version()}" / "bin" / "uv"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    opts = options.parse({"KIT_TOOLS_CACHE": str(cache)})
    kit = load_kit(opts, tmp_path / "clone-a")
    other = load_kit(opts, tmp_path / "clone-b")
    # Found in the cache by every clone, without installing anything.
    assert venv.uv(kit) == venv.uv(other) == str(binary)
    assert not (tmp_path / "clone-a").exists()


def test_uv_is_pinned_by_version_and_hash():
    text = venv.UV_REQUIREMENTS.read_text()
    assert venv.uv_version() in text
    assert text.count("--hash=sha256:") >= 10  # one per platform's wheel: pip --require-hashes


def test_the_tools_cache_follows_xdg(tmp_path):
    here = {k: v for k, v in os.environ.items() if k not in ("KIT_TOOLS_CACHE", "XDG_CACHE_HOME")}
    assert tools_cache(options.parse(here | {"XDG_CACHE_HOME": str(tmp_path)})) == tmp_path / "flowjax-kit"
    assert tools_cache(options.parse(here)) == Path(os.path.expanduser("~")) / ".cache" / "flowjax-kit"
