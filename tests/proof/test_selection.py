"""Which tests a change carries and touches: new node ids, module tests, one PR's proof."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import git
from kit.envs import ci
from kit.proof import selection
from kit.proof.tally import Case, read_cases


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


@pytest.fixture
def tests_repo(tmp_path: Path) -> Path:
    repo = tmp_path / "repo"
    (repo / "tests").mkdir(parents=True)
    (repo / "flowjax/bijections").mkdir(parents=True)
    (repo / "tests/test_bijections").mkdir()
    (repo / "flowjax/bijections/utils.py").write_text("X = 1\n")
    (repo / "tests/test_bijections/test_bijection_utils.py").write_text("def test_u():\n    assert True\n")
    (repo / "tests/test_bijections/test_other.py").write_text("def test_o():\n    assert True\n")
    (repo / "tests/test_a.py").write_text(
        "import pytest\n\nCASES = {\n    'one': 1,\n}\n\n\n"
        "@pytest.mark.parametrize('k', CASES)\ndef test_cases(k):\n    assert CASES[k]\n\n\n"
        "def test_plain():\n    assert 1\n"
    )
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    return repo


def _proof(repo: Path) -> list[str]:
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "change")
    with_base = git(repo, "rev-parse", "HEAD~1")
    return selection.proof_args(Path(sys.executable), repo, with_base, BASE_IDS)


BASE_IDS = {
    "tests/test_a.py::test_cases[one]",
    "tests/test_a.py::test_plain",
    "tests/test_bijections/test_bijection_utils.py::test_u",
    "tests/test_bijections/test_other.py::test_o",
}


def test_proof_runs_a_new_case_and_not_the_rest_of_the_file(tests_repo):
    path = tests_repo / "tests/test_a.py"
    path.write_text(path.read_text().replace("    'one': 1,\n", "    'one': 1,\n    'two': 2,\n"))
    assert _proof(tests_repo) == ["tests/test_a.py::test_cases[two]"]


def test_proof_runs_every_case_of_an_edited_function(tests_repo):
    path = tests_repo / "tests/test_a.py"
    path.write_text(path.read_text().replace("assert CASES[k]", "assert CASES[k] > 0"))
    assert _proof(tests_repo) == ["tests/test_a.py::test_cases[one]"]


def test_proof_runs_the_whole_file_when_module_code_is_edited(tests_repo):
    path = tests_repo / "tests/test_a.py"
    path.write_text(path.read_text().replace("'one': 1,", "'one': 3,"))
    assert _proof(tests_repo) == ["tests/test_a.py"]


def test_proof_runs_the_tests_named_after_an_edited_module(tests_repo):
    (tests_repo / "flowjax/bijections/utils.py").write_text("X = 2\n")
    assert _proof(tests_repo) == ["tests/test_bijections/test_bijection_utils.py"]
