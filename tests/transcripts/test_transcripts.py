"""Whole-output transcripts of the main paths: apply, apply twice, one PR, refresh, a conflict, pr.

Each test runs the CLI on the fake upstream and compares everything it printed (stdout and
stderr interleaved, as a terminal shows them) with a stored transcript, so an extra, missing
or reordered line fails. Paths, hashes, dates and times are blanked first (`blank`).

To regenerate after an intended change: ``KIT_UPDATE_TRANSCRIPTS=1 .venv/bin/python -m pytest
tests/transcripts``, then read every changed file in `git diff tests/transcripts` by eye.
"""

from __future__ import annotations

import difflib
import os
import re
import shlex
import sys
from pathlib import Path

import pytest
from helpers import DOC_BLOCK, Upstream, git, make_clone

HERE = Path(__file__).parent
UPDATE = os.environ.get("KIT_UPDATE_TRANSCRIPTS") == "1"
AUTHOR = "Ada Lovelace <ada@example.com>"


def blank(text: str, world: Upstream) -> str:
    """``text`` without what changes from run to run: the world's path, hashes, dates, timings."""
    text = text.replace(str(world.tmp), "<world>")
    text = re.sub(r"\b[0-9a-f]{64}\b", "<sha256>", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:[+-]\d{2}:?\d{2}|Z)?", "<date>", text)
    text = re.sub(r"\d{8}-\d{6}", "<time>", text)
    text = re.sub(r"\b\d{4}-\d{2}-\d{2}\b", "<day>", text)
    text = re.sub(r"\b(?=[0-9a-f]*\d)[0-9a-f]{7,40}\b", "<hash>", text)
    return re.sub(r"\b\d+\.\d+s\b", "<t>s", text)


class Session:
    """Commands run one after another on one world, and what each printed."""

    def __init__(self, world: Upstream) -> None:
        self.world = world
        self.parts: list[str] = []

    def make(self, target: str, **env: str) -> int:
        """Run ``make <target> VAR=value ...`` (as the CLI), recording the command and its output."""
        argv = ["test", "--fast"] if target == "test-fast" else [target]
        code, text = self.world.kit_lines(*argv, KIT_PYTHON=sys.executable, **env)
        words = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
        self.parts.append(f"$ make {target}{' ' + words if words else ''}\n{text}")
        if code:
            self.parts.append(f"(exit {code})\n")
        return code

    def note(self, line: str) -> None:
        """A line of the transcript's own (what the user did between commands)."""
        self.parts.append(f"# {line}\n")

    def text(self) -> str:
        return blank("".join(self.parts), self.world)


def check(session: Session, name: str) -> None:
    """Compare the session's transcript with ``tests/transcripts/<name>.txt`` (or rewrite it)."""
    path = HERE / f"{name}.txt"
    text = session.text()
    if UPDATE:
        path.write_text(text)
        return
    stored = path.read_text() if path.is_file() else ""
    if text != stored:
        diff = "".join(difflib.unified_diff(stored.splitlines(True), text.splitlines(True), str(path), "now"))
        pytest.fail(f"transcript {name} differs (KIT_UPDATE_TRANSCRIPTS=1 rewrites it):\n{diff}")


def test_apply_then_apply_again(upstream: Upstream):
    first = Session(upstream)
    assert first.make("apply") == 0
    check(first, "apply")
    again = Session(upstream)
    assert again.make("apply") == 0
    check(again, "apply-twice")


def test_one_pr_and_back(upstream: Upstream):
    s = Session(upstream)
    assert s.make("apply", PR="docs") == 0
    assert s.make("apply") == 0
    check(s, "apply-pr")


def test_refresh_an_amended_commit(upstream: Upstream):
    s = Session(upstream)
    assert s.make("apply") == 0
    assert s.make("refresh") == 0  # the fixture's hand-made patches in the kit's own format
    rst = upstream.checkout / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Some words.", "Better words."))
    git(upstream.checkout, "commit", "-q", "-a", "--amend", "--no-edit")
    s.note("edit docs/getting_started.rst; git commit -a --amend --no-edit")
    assert s.make("refresh") == 0
    assert s.make("apply") == 0
    check(s, "refresh")


def test_a_patch_that_does_not_apply_stops_at_the_last_good_one(upstream: Upstream):
    s = Session(upstream)
    patch = next((upstream.kit / "patches").glob("0002-*.patch"))
    patch.write_text(patch.read_text().replace(" Next section\n", " Other heading\n"))
    s.note("edit patches/0002-docs-add-a-section.patch: its context no longer matches the release")
    assert s.make("apply") == 1
    patch.write_text(patch.read_text().replace(" Other heading\n", " Next section\n"))
    s.note("undo that edit")
    assert s.make("apply") == 0
    check(s, "patch-fails")


def test_a_conflict_with_main(upstream: Upstream):
    clone = make_clone(upstream)
    git(clone, "switch", "-q", "main")
    rst = clone / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Next section\n------------\n", "Next steps\n----------\n"))
    git(clone, "commit", "-qam", "docs: rename")
    s = Session(upstream)
    s.note("in the clone, main renames the heading the docs PR inserts its block above")
    assert s.make("apply", UPSTREAM_REF="main") == 1
    assert s.make("apply", UPSTREAM_REF="main", PR="tests") == 0
    check(s, "conflict")


def test_pr_in_a_clone(upstream: Upstream):
    from helpers import envs_of_a_run, results_of_a_run

    make_clone(upstream)
    s = Session(upstream)
    assert s.make("apply") == 0
    results_of_a_run(upstream)
    envs_of_a_run(upstream)
    s.note("the results of `make test` and `make envs` are in build/results/")
    assert s.make("pr", AUTHOR=AUTHOR) == 0
    for name in ("tests", "docs"):
        body = (upstream.kit / f"build/pr/{name}/PR_BODY.md").read_text()
        s.parts.append(f"$ cat build/pr/{name}/PR_BODY.md\n{body}")
    assert DOC_BLOCK.splitlines()[0] in (upstream.checkout / "docs/getting_started.rst").read_text()
    check(s, "pr")


def test_dry_run_prints_the_plan_and_moves_nothing(upstream: Upstream):
    s = Session(upstream)
    assert s.make("apply", DRY_RUN="1") == 0
    assert not upstream.checkout.exists()
    assert s.make("apply") == 0
    assert s.make("bump", DRY_RUN="1", VERSION="1.1.0") == 0
    assert "1.0.0" in (upstream.kit / "upstream.toml").read_text()
    assert not (upstream.kit / "known-sdists.toml").exists()
    rst = upstream.checkout / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Some words.", "Better words."))
    git(upstream.checkout, "commit", "-q", "-a", "--amend", "--no-edit")
    s.note("edit docs/getting_started.rst; git commit -a --amend --no-edit")
    before = {p.name: p.read_bytes() for p in (upstream.kit / "patches").iterdir()}
    assert s.make("refresh", DRY_RUN="1") == 0
    assert {p.name: p.read_bytes() for p in (upstream.kit / "patches").iterdir()} == before
    head = upstream.head()
    assert s.make("apply", DRY_RUN="1", FORCE="1") == 0
    assert upstream.head() == head
    assert not [p for p in upstream.checkout.parent.iterdir() if "backup" in p.name]
    check(s, "dry-run")
