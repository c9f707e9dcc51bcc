"""The kit tests' shared helpers, in one module: the fake FlowJAX upstream and what its tests ask of it.

A fake upstream (sdists, a package index, a patch series) in a temp dir; the kit runs against it
with no network, no JAX and no git identity. `conftest.py` makes it a fixture.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path

from kit import cli
from kit.checkout.target import require_target
from kit.evidence import ledger
from kit.evidence.stamps import series_digest, write_stamp
from kit.paths import Kit
from kit.series.pin import load_pin

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
IDENT = {
    "GIT_AUTHOR_NAME": "Test Author",
    "GIT_AUTHOR_EMAIL": "author@example.com",
    "GIT_COMMITTER_NAME": "Test Author",
    "GIT_COMMITTER_EMAIL": "author@example.com",
    "GIT_AUTHOR_DATE": "2024-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2024-01-01T00:00:00Z",
}
UPSTREAM_FILES = {
    "pyproject.toml": '[project]\nname = "flowjax"\nversion = "{version}"\n',
    "flowjax/__init__.py": '"""Fake FlowJAX {version}."""\n',
    "tests/test_upstream.py": "def test_upstream():\n    assert True\n",
    "docs/getting_started.rst": "Getting started\n===============\n\nIntro.\n\nNext section\n------------\n\nText.\n",
}
NEW_TEST = "def test_new():\n    assert 1 + 1 == 2\n"

# Two PRs; "docs" depends on "tests", so only "tests" is provable alone.
STACK = """# The fake stack.

[[pr]]
name = "tests"
branch = "add-tests"
title = "Add the new test"
depends = []
patches = [
    "{0}",
]
summary = \"\"\"
Adds a test.
\"\"\"

[[pr]]
name = "docs"
branch = "add-docs"
title = "Add a docs section"
depends = ["tests"]
patches = [
    "{1}",
]
"""
DOC_BLOCK = "Added section\n-------------\n\nSome words.\n\n"


def git(repo: Path, *args: str) -> str:
    """Run git as the test author (never as the kit)."""
    env = {**os.environ, **IDENT, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    proc = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, env=env, check=True
    )
    return proc.stdout.strip()


def make_sdist(path: Path, version: str, files: dict[str, str]) -> bytes:
    """Write a deterministic sdist `flowjax-<version>.tar.gz`; return its bytes."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, text in sorted(files.items()):
            data = text.format(version=version).encode()
            info = tarfile.TarInfo(f"flowjax-{version}/{name}")
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


@dataclass
class Upstream:
    """The fake world: kit root, index, checkout path and environment for the kit."""

    tmp: Path
    kit: Path
    index: Path
    checkout: Path
    cache: Path
    sha256: dict[str, str]

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "FLOWJAX", "KIT_", "FORCE"))}
        env |= {
            "PYTHONPATH": str(SCRIPTS),
            "KIT_ROOT": str(self.kit),
            "FLOWJAX_DIR": str(self.checkout),
            "KIT_CACHE": str(self.cache),
            "KIT_INDEX_URL": self.index.as_uri(),
            # No git identity anywhere: the kit must set its own per command.
            "HOME": str(self.tmp / "home"),
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
        }
        return env | extra

    def kit_run(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """Run the kit's CLI as `python -m kit` would, in this process (no interpreter start-up).

        The process environment is swapped for the call's, so the kit and the git, pytest
        and sphinx processes it starts see exactly what a subprocess would.
        """
        out, err = io.StringIO(), io.StringIO()
        code = self._main(list(args), extra, out, err)
        return subprocess.CompletedProcess(["kit", *args], code, out.getvalue(), err.getvalue())

    def kit_lines(self, *args: str, **extra: str) -> tuple[int, str]:
        """(exit code, stdout and stderr interleaved as a terminal shows them) of one CLI run."""
        both = io.StringIO()
        return self._main(list(args), extra, both, both), both.getvalue()

    def _main(self, argv: list[str], extra: dict[str, str], out: io.StringIO, err: io.StringIO) -> int:
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env(**extra))
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    return cli.main(argv)
                except SystemExit as e:
                    return e.code if isinstance(e.code, int) else 1
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def pin(self, version: str, sha256: str | None = None) -> None:
        (self.kit / "upstream.toml").write_text(
            f'[upstream]\npackage = "flowjax"\nversion = "{version}"\n'
            f'sha256 = "{sha256 or self.sha256[version]}"\ntag = "v{{version}}"\n\n'
            '[series]\nbranch = "reparameterized-gradients"\nauthor = "Kit <kit@example.com>"\n\n'
            '[[sources]]\npath = "flowjax_tests/test_new.py"\ntarget = "tests/test_new.py"\npr = "tests"\n\n'
            '[[sources]]\npath = "docs_additions/added.rst"\ntarget = "docs/getting_started.rst"\n'
            'before = "Next section"\npr = "docs"\n'
        )

    def head(self, repo: Path | None = None) -> str:
        return git(repo or self.checkout, "rev-parse", "HEAD")


def _write_index(index: Path, versions: list[str], sdists: Path) -> None:
    page = index / "flowjax"
    page.mkdir(parents=True)
    links = "".join(
        f'<a href="{(sdists / f"flowjax-{v}.tar.gz").as_uri()}">flowjax-{v}.tar.gz</a>\n' for v in versions
    )
    (page / "index.html").write_text(f"<html><body>\n{links}</body></html>\n")


def _make_patches(tmp: Path, sdist: Path, kit: Path) -> None:
    """Two patches in upstream style: add the new test file; insert the docs block."""
    work = tmp / "patchwork"
    with tarfile.open(sdist) as tar:
        tar.extractall(work, filter="data")
    repo = next(work.iterdir())
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "base")
    (repo / "tests/test_new.py").write_text(NEW_TEST)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "tests: add the new test\n\nBug: https://example.com/issues/181")
    rst = repo / "docs/getting_started.rst"
    rst.write_text(rst.read_text().replace("Next section\n", DOC_BLOCK + "Next section\n"))
    git(repo, "commit", "-qam", "docs: add a section")
    patches = kit / "patches"
    patches.mkdir()
    git(repo, "format-patch", "-q", "-N", "--zero-commit", "--no-signature", "-o", str(patches), "HEAD~2")
    names = [p.name for p in sorted(patches.glob("*.patch"))]
    (patches / "series").write_text("".join(f"{n}\n" for n in names))
    (patches / "stack.toml").write_text(STACK.format(*names))
    (kit / "flowjax_tests").mkdir()
    (kit / "flowjax_tests/test_new.py").write_text(NEW_TEST)
    (kit / "docs_additions").mkdir()
    (kit / "docs_additions/added.rst").write_text(DOC_BLOCK)
    shutil.rmtree(work)


def _build_world(tmp_path: Path) -> Upstream:
    """Fake releases 1.0.0 and 1.1.0 (whose docs the series' docs patch no longer fits)."""
    sdists = tmp_path / "sdists"
    sdists.mkdir()
    sha = {}
    for version in ("1.0.0", "1.1.0"):
        files = dict(UPSTREAM_FILES)
        if version == "1.1.0":
            files["docs/getting_started.rst"] = "Getting started\n===============\n\nRewritten.\n"
        data = make_sdist(sdists / f"flowjax-{version}.tar.gz", version, files)
        sha[version] = hashlib.sha256(data).hexdigest()
    index = tmp_path / "simple"
    _write_index(index, ["1.0.0", "1.1.0"], sdists)
    kit = tmp_path / "kit"
    kit.mkdir()
    (tmp_path / "home").mkdir()
    # The checkout is where the kit makes it by default (a FLOWJAX_DIR elsewhere must exist).
    world = Upstream(tmp_path, kit, index, kit / "build" / "flowjax", tmp_path / "cache", sha)
    world.pin("1.0.0")
    _make_patches(tmp_path, sdists / "flowjax-1.0.0.tar.gz", kit)
    return world


def copy_world(_world: Upstream, root: Path) -> Upstream:
    """A copy of the fake world at ``root`` (for one test, or shared by a module's tests)."""
    shutil.copytree(_world.tmp, root, symlinks=True)
    # The index page links the sdists by absolute path: point it at this copy.
    page = root / "simple/flowjax/index.html"
    page.write_text(page.read_text().replace(_world.tmp.as_uri(), root.as_uri()))
    moved = {
        f.name: Path(str(getattr(_world, f.name)).replace(str(_world.tmp), str(root)))
        for f in dataclasses.fields(Upstream)
        if f.name in ("tmp", "kit", "index", "checkout", "cache")
    }
    return dataclasses.replace(_world, **moved, sha256=dict(_world.sha256))


def make_clone(upstream: Upstream) -> Path:
    """Make ``upstream``'s checkout a user's clone (see the ``clone`` fixture)."""
    repo = upstream.tmp / "user-clone"
    with tarfile.open(upstream.tmp / "sdists" / "flowjax-1.0.0.tar.gz") as tar:
        tar.extractall(upstream.tmp / "unpack", filter="data")
    (upstream.tmp / "unpack" / "flowjax-1.0.0").rename(repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "release 1.0.0")
    git(repo, "tag", "v1.0.0")
    (repo / "flowjax/extra.py").write_text('"""Later work."""\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "later work on main")
    upstream.checkout = repo
    return repo


def error_line(proc) -> str:
    """The kit's single error line; fails the test if there is more than one (warnings aside)."""
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith("kit: warning: ")]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("kit: error: ")
    return lines[0]


def leftovers(upstream: Upstream) -> list[str]:
    parent = upstream.checkout.parent
    return sorted(p.name for p in parent.iterdir()) if parent.exists() else []


AUTHOR = "Ada Lovelace <ada@example.com>"
BASE_IDS = "tests/test_upstream.py::test_upstream\n"
JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_new" name="test_new" time="1.5"/>
<testcase classname="tests.test_upstream" name="test_upstream" time="3.0"/>
</testsuite></testsuites>
"""
PIN_JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_upstream" name="test_upstream" time="3.0"><failure message="NotImplementedError"/>
</testcase></testsuite></testsuites>
"""
DOCTEST_SUMMARY = "Doctest summary\n===============\n    7 tests\n    1 failure in tests\n"
ROW = {
    "env": "latest",
    "python": "3.13.0",
    "jax": "0.12.0",
    "jaxlib": "0.12.0",
    "equinox": "0.13.8",
    "paramax": "0.0.5",
    "pytest": "9.2.0",
    "series": "1 passed, 0 failed",
    "upstream_pin": "1 passed, 0 failed",
    "upstream_stack": "1 passed, 0 failed",
    "doctests": "7 passed, 0 failed",
    "sentinels": "-",
    "reproducer_pin": {},
    "reproducer_stack": {},
    "reproducer_stack_ok": True,
    "series_fails_alone": False,
    "seconds": 12.0,
}


def run(upstream: Upstream, *args: str, **env: str):
    return upstream.kit_run(*args, KIT_PYTHON=sys.executable, **env)


def kit_of(upstream: Upstream) -> Kit:
    return Kit(upstream.kit, upstream.checkout, upstream.cache, upstream.index.as_uri())


def results_of_a_run(upstream: Upstream, **facts) -> None:
    """What a full `make test` leaves: JUnit results, doctest output, base node ids, a stamp."""
    results = upstream.kit / "build/results"
    results.mkdir(parents=True, exist_ok=True)
    for name in ("flowjax.xml", "pr-tests.xml"):
        (results / name).write_text(JUNIT)
    (results / "doctest").mkdir(exist_ok=True)
    (results / "doctest/output.txt").write_text(DOCTEST_SUMMARY)
    base = git(upstream.checkout, "rev-parse", "reparameterized-gradients~2")
    ids = upstream.kit / f"build/nodeids/base-nodeids-{base[:12]}.txt"
    ids.parent.mkdir(parents=True, exist_ok=True)
    ids.write_text(BASE_IDS)
    kit = kit_of(upstream)
    pin = load_pin(kit.pin_file)
    target = require_target(kit, pin)
    stamp = {
        "upstream_suite": True,
        "order": "natural",
        "version": "1.0.0",
        "tree": git(upstream.checkout, "rev-parse", "HEAD^{tree}"),
        "exit_code": 0,
        **target.facts(),
    }
    write_stamp(results / "stamp.json", kit, **(stamp | facts))
    ledger.record(kit, series_digest(kit), stamp | facts)


def envs_of_a_run(upstream: Upstream, **row) -> None:
    """What `make envs` leaves: the table, its stamp, and each row's cases (upstream's test fails on 1.0.0)."""
    results = upstream.kit / "build/results"
    results.mkdir(parents=True, exist_ok=True)
    (results / "envs.md").write_text("| env | ... |\n|---|---|\n| latest | ... |\n")
    write_stamp(results / "envs.json", kit_of(upstream), rows=[ROW | row], made="2026-11-26 10:00")
    (results / "envs/latest").mkdir(parents=True, exist_ok=True)
    (results / "envs/latest/pin.xml").write_text(PIN_JUNIT)
    (results / "envs/latest/stack.xml").write_text(JUNIT)


def ready(upstream: Upstream) -> None:
    assert run(upstream, "apply").returncode == 0
    results_of_a_run(upstream)
    envs_of_a_run(upstream)
