"""Which tests a change carries upstream, and which of upstream's tests it touches.

A test case is the series' own when its pytest node id does not exist at the base (a new
test function, or a new case of an existing one); every other case is upstream's.
"""

from __future__ import annotations

import ast
import re
import subprocess
from pathlib import Path

from kit.git import run as git
from kit.git.worktree import scratch_worktree
from kit.log import KitError
from kit.proof.tally import Case

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
    return git.out(repo, "diff", "--name-only", f"{base}..{head}").splitlines()


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


def touches_doctests(repo: Path, base: str, head: str) -> bool:
    """Whether a change edits docs/ or a docstring example (a ``>>>`` line) under flowjax/.

    A library change that alters what an unchanged example prints is caught by the stack's
    doctest stage, which runs every example on top of every PR.
    """
    paths = changed(repo, base, head)
    if any(p.startswith("docs/") for p in paths):
        return True
    lib = [p for p in paths if p.startswith("flowjax/")]
    if not lib:
        return False
    diff = git.out(repo, "diff", "--unified=0", f"{base}..{head}", "--", *lib)
    return any(line[:1] in "+-" and ">>>" in line for line in diff.splitlines())


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
    sha = git.rev(repo, base)
    if sha is None:
        raise KitError(f"{repo}: no commit {base}")
    path = cache / f"base-nodeids-{sha[:12]}.txt"
    if path.is_file():
        return set(path.read_text().splitlines())
    with scratch_worktree(repo, sha) as work:
        ids = collect(python, work, ["tests"])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{i}\n" for i in sorted(ids)))
    return ids


def _changed_lines(repo: Path, base: str, head: str, path: str) -> tuple[set[int], bool]:
    """(lines of ``path`` at ``head`` that the change adds, whether it also removes lines)."""
    diff = git.out(repo, "diff", "--unified=0", f"{base}..{head}", "--", path)
    added: set[int] = set()
    removes = False
    for hunk in re.finditer(r"^@@ -\d+(?:,(\d+))? \+(\d+)(?:,(\d+))? @@", diff, re.M):
        old_len = 1 if hunk.group(1) is None else int(hunk.group(1))
        start, length = int(hunk.group(2)), 1 if hunk.group(3) is None else int(hunk.group(3))
        # A deletion only (length 0) sits between lines start and start + 1.
        added.update(range(start, start + length) if length else (start, start + 1))
        removes = removes or old_len > 0
    return added, removes


def _touched_functions(source: str, lines: set[int], removes: bool) -> set[str] | None:
    """Top-level test names whose code covers ``lines``; None when a change reaches the whole module.

    A module-level statement that is edited (not only added), other than an import, can change
    every case of the file (a case dict, a constant), so the whole file is named by None.
    """
    names: set[str] = set()
    for node in ast.parse(source).body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        span = set(range(start, (node.end_lineno or node.lineno) + 1))
        if not span & lines:
            continue
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif removes and not isinstance(node, ast.Import | ast.ImportFrom):
            return None
    return names


def module_test_files(path: str, repo: Path) -> list[str]:
    """Upstream's test file(s) of the source file ``path``: the narrowest that exist.

    In a test folder, the files named after the module (``utils.py`` ->
    ``test_bijection_utils.py``); else the folder, or the file the folder maps to.
    """
    tests = module_tests(path, repo)
    stem = Path(path).stem
    if (repo / tests).is_dir() and stem != "__init__":
        named = sorted(p.relative_to(repo).as_posix() for p in (repo / tests).glob(f"test_*{stem}*.py"))
        if named:
            return named
    return [tests]


def proof_args(python: Path, repo: Path, base: str, base_ids: set[str]) -> list[str]:
    """What one PR's proof runs: the test ids it adds or changes, and the tests of the modules it edits.

    In a test file the PR edits, the cases it adds (node ids the base lacks) and every case of
    a test function whose code it edits; the whole file when it edits module-level code other
    than imports. For a library module it edits, upstream's test file(s) of that module.
    Returns pytest arguments (paths and node ids), none repeated.
    """
    whole: set[str] = set()
    edited: dict[str, set[str]] = {}
    for path in changed(repo, base, "HEAD"):
        if not (repo / path).is_file() or not path.endswith(".py"):
            continue
        if path.startswith("flowjax/"):
            whole.update(module_test_files(path, repo))
        elif path.startswith("tests/"):
            lines, removes = _changed_lines(repo, base, "HEAD", path)
            names = _touched_functions((repo / path).read_text(), lines, removes)
            if names is None:
                whole.add(path)
            else:
                edited[path] = names
    if "tests" in whole:
        return ["tests"]
    edited = {p: n for p, n in edited.items() if not any(p == w or p.startswith(f"{w}/") for w in whole)}
    ids: set[str] = set()
    if edited:
        for nodeid in collect(python, repo, sorted(edited)):
            path, _, rest = nodeid.partition("::")
            if nodeid not in base_ids or rest.split("::")[0].split("[")[0] in edited.get(path, ()):
                ids.add(nodeid)
    return sorted(whole) + sorted(ids)
