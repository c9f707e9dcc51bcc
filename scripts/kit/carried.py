"""Which tests a change carries upstream, and which of upstream's tests it touches.

A test case is the series' own when its pytest node id does not exist at the base (a new
test function, or a new case of an existing one); every other case is upstream's.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from kit import gitutil
from kit.log import KitError
from kit.tally import Case

# Upstream's tests of a FlowJAX source file, by path prefix (first match wins).
MODULE_TESTS = (
    ("flowjax/bijections/", "tests/test_bijections"),
    ("flowjax/distributions.py", "tests/test_distributions.py"),
    ("flowjax/flows.py", "tests/test_flows.py"),
    ("flowjax/root_finding.py", "tests/test_root_finding.py"),
    ("flowjax/experimental/", "tests/test_experimental"),
    ("flowjax/train/", "tests/test_train"),
)


def changed(repo: Path, base: str, head: str) -> list[str]:
    """Paths that differ between ``base`` and ``head``."""
    return gitutil.out(repo, "diff", "--name-only", f"{base}..{head}").splitlines()


def module_tests(path: str, repo: Path) -> str:
    """Upstream's tests of the source file ``path`` (the whole suite when unknown)."""
    for prefix, tests in MODULE_TESTS:
        if path.startswith(prefix):
            return tests
    guess = f"tests/test_{Path(path).stem}.py"
    return guess if (repo / guess).is_file() else "tests"


def touched_tests(repo: Path, base: str, head: str) -> list[str]:
    """Test paths a change can affect: the test files it edits, and the tests of its modules.

    Paths inside a directory that is itself listed are dropped, so none runs twice.
    """
    paths = set()
    for path in changed(repo, base, head):
        if path.startswith("tests/") and path.endswith(".py"):
            paths.add(path)
        elif path.startswith("flowjax/") and path.endswith(".py"):
            paths.add(module_tests(path, repo))
    if "tests" in paths:
        return ["tests"]
    dirs = [p for p in paths if not p.endswith(".py")]
    return sorted(p for p in paths if not any(p.startswith(f"{d}/") for d in dirs))


def touches_docs(repo: Path, base: str, head: str) -> bool:
    """Whether a change can affect the doctests (docs/, or docstrings under flowjax/)."""
    return any(p.startswith(("docs/", "flowjax/")) for p in changed(repo, base, head))


def collect(python: Path, repo: Path, args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """Node ids pytest collects for ``args`` in ``repo`` (with the repo's own pytest config).

    Raises:
        KitError: If collection fails.
    """
    proc = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", "--collect-only", "-q", *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    ids = {line.strip() for line in proc.stdout.splitlines() if "::" in line and not line.startswith(" ")}
    if proc.returncode not in (0, 5) or (proc.returncode == 0 and not ids):
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-1:] or ["no output"]
        raise KitError(f"pytest could not collect {' '.join(args)} in {repo}: {tail[0]}")
    return ids


def split(cases: list[Case], base_ids: set[str]) -> tuple[list[Case], list[Case]]:
    """(the series' cases, upstream's cases): new node ids are the series'.

    A file that fails to collect counts as upstream's: every test in it, upstream's
    included, failed to run.
    """
    new = [c for c in cases if c.nodeid not in base_ids and not c.collection_error]
    return new, [c for c in cases if c.nodeid in base_ids or c.collection_error]


def base_node_ids(python: Path, repo: Path, base: str, cache: Path) -> set[str]:
    """Node ids of upstream's suite at ``base``, collected in a scratch worktree, cached per commit."""
    sha = gitutil.rev(repo, base)
    if sha is None:
        raise KitError(f"{repo}: no commit {base}")
    path = cache / f"base-nodeids-{sha[:12]}.txt"
    if path.is_file():
        return set(path.read_text().splitlines())
    with gitutil.scratch_worktree(repo, sha) as work:
        ids = collect(python, work, ["tests"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{i}\n" for i in sorted(ids)))
    return ids
