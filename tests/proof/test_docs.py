"""The docs stages against a tiny Sphinx project: doctest counts, new warnings, the built page."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from helpers import git
from kit.log import KitError
from kit.paths import Kit
from kit.proof import docs
from kit.series.pin import Source

PYTHON = Path(sys.executable)
CONF = 'project = "fake"\nextensions = ["sphinx.ext.doctest"]\n'
INDEX = "Index\n=====\n\n.. toctree::\n\n   getting_started\n"
PAGE = "Getting started\n===============\n\nIntro.\n\nNext section\n------------\n\nText.\n"
BLOCK = """.. _added-section:

Added section
^^^^^^^^^^^^^

Some words.

.. doctest::

   >>> 1 + 1
   2

.. doctest::

   >>> print("second")
   second

"""
SOURCE = Source("docs_additions/added.rst", "docs/getting_started.rst", before="Next section")


def project(root: Path, page: str = PAGE) -> Path:
    """A git repo holding a Sphinx project, with one commit (the base)."""
    (root / "docs").mkdir(parents=True)
    (root / "docs/conf.py").write_text(CONF)
    (root / "docs/index.rst").write_text(INDEX)
    (root / "docs/getting_started.rst").write_text(page)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


def insert(repo: Path, block: str) -> None:
    page = repo / "docs/getting_started.rst"
    page.write_text(page.read_text().replace("Next section\n", block + "Next section\n"))


def kit_for(tmp_path: Path, repo: Path, block: str) -> Kit:
    root = tmp_path / "kit"
    (root / "docs_additions").mkdir(parents=True)
    (root / "docs_additions/added.rst").write_text(block)
    return Kit(root, repo, tmp_path / "cache", "file:///nowhere")


def test_doctest_counts_passes_and_failures(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    insert(repo, BLOCK.replace("   second\n", "   third\n"))
    tally = docs.doctest(PYTHON, repo, tmp_path / "out")
    assert (tally.passed, tally.failed) == (1, 1)


def test_doctest_without_tests_is_an_error(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    with pytest.raises(KitError, match="no doctests"):
        docs.doctest(PYTHON, repo, tmp_path / "out")


PLAIN = """Gradients can be taken through sampling

.. doctest::

   >>> print("plain")
   plain

"""
PLAIN_SOURCE = Source("docs_additions/plain.rst", "docs/getting_started.rst", before="Next section")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One HTML build, shared by the tests that only read it: both blocks on the page."""
    tmp_path = tmp_path_factory.mktemp("built")
    repo = project(tmp_path / "repo")
    insert(repo, BLOCK + PLAIN)
    kit = kit_for(tmp_path, repo, BLOCK)
    assert docs.build(kit, PYTHON, repo, "HEAD", (SOURCE,)) == []
    return kit.build / "docs" / "html"


def test_built_page_has_the_section_anchor_and_blocks(built: Path) -> None:
    page = built / "getting_started.html"
    assert 'id="added-section"' in page.read_text()
    assert docs.check_html(built, SOURCE, BLOCK) == []
    assert docs.check_html(built, PLAIN_SOURCE, PLAIN) == []  # no label: found by its code


@pytest.mark.parametrize(
    ("edit", "source", "rst", "problem"),
    [
        (
            ("second", "changed"),
            SOURCE,
            BLOCK,
            "getting_started.html: no code block shows '>>> print(\"second\")'",
        ),
        (
            ('id="added-section"', 'id="elsewhere"'),
            SOURCE,
            BLOCK,
            "getting_started.html: no element with id 'added-section'",
        ),
        (
            ("plain", "other"),
            PLAIN_SOURCE,
            PLAIN,
            "getting_started.html: no code block shows '>>> print(\"plain\")'",
        ),
    ],
    ids=["block", "anchor", "unlabelled-block"],
)
def test_tampered_page_is_named(built: Path, tmp_path: Path, edit, source, rst, problem) -> None:
    html = tmp_path / "html"
    html.mkdir()
    page = (built / "getting_started.html").read_text()
    (html / "getting_started.html").write_text(page.replace(*edit))
    assert docs.check_html(html, source, rst) == [problem]


def test_a_new_warning_fails_the_build(tmp_path: Path) -> None:
    repo = project(tmp_path / "repo")
    block = BLOCK.replace("Some words.", "See :ref:`no-such-label`.")
    insert(repo, block)
    git(repo, "commit", "-qam", "docs: add a section")
    kit = kit_for(tmp_path, repo, block)
    problems = docs.build(kit, PYTHON, repo, "HEAD~1", (SOURCE,))
    assert len(problems) == 1
    assert problems[0].startswith("new sphinx warning: ")
    assert "no-such-label" in problems[0]


def test_warnings_already_in_the_base_are_not_new(tmp_path: Path) -> None:
    broken = PAGE.replace("Intro.", "See :ref:`no-such-label`.")
    repo = project(tmp_path / "repo", page=broken)
    insert(repo, BLOCK)
    git(repo, "commit", "-qam", "docs: add a section")
    kit = kit_for(tmp_path, repo, BLOCK)
    assert docs.build(kit, PYTHON, repo, "HEAD~1", (SOURCE,)) == []
