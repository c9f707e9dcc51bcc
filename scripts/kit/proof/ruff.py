"""Ruff with upstream's config on what the series adds, and new findings in what it edits."""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

from kit.git import run as git


def ruff_problems(python: Path, repo: Path, base: str) -> list[str]:
    """Ruff findings (upstream's config) in files the series adds, and new ones in files it edits."""
    ruff = str(python.parent / "ruff")
    changed = git.out(repo, "diff", "--name-status", f"{base}..HEAD", "--", "*.py").splitlines()
    added = [line.split("\t")[-1] for line in changed if line[0] == "A"]
    edited = [line.split("\t")[-1] for line in changed if line[0] == "M"]
    problems = []
    for cmd in (["check", "--quiet"], ["format", "--check", "--quiet"]):
        if added:
            proc = subprocess.run([ruff, *cmd, *added], cwd=repo, capture_output=True, text=True, check=False)
            if proc.returncode:
                problems.append(f"ruff {cmd[0]}: {(proc.stdout + proc.stderr).strip()}")
    for path in edited:
        before = _findings(ruff, repo, path, git.run(repo, "show", f"{base}:{path}").stdout)
        after = _findings(ruff, repo, path, (repo / path).read_text())
        new = after - before
        if new:
            problems.append(f"ruff check: {path} gains {sum(new.values())} finding(s): {sorted(new)[0]}")
    return problems


def _findings(ruff: str, repo: Path, path: str, text: str) -> Counter[str]:
    proc = subprocess.run(
        [ruff, "check", "--output-format=concise", "--no-fix", "--quiet", "--stdin-filename", path, "-"],
        cwd=repo,
        input=text,
        capture_output=True,
        text=True,
        check=False,
    )
    # Line numbers move with any edit; compare the rule and its message only.
    return Counter(line.split(": ", 1)[-1] for line in proc.stdout.splitlines() if ": " in line)
