"""Which series a result was produced from, so that stale evidence is refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from kit.paths import Kit
from kit.series.series_file import read_series
from kit.series.stack import STACK_FILE

KIT_TESTS = "kit-tests.json"  # the kit code's digest and its tests' failures, of their last run


def series_digest(kit: Kit) -> str:
    """sha256 over `series`, `stack.toml`, every patch, and the PRs' issue texts, in order."""
    digest = hashlib.sha256((kit.patches / "series").read_bytes())
    stack = kit.patches / STACK_FILE
    if stack.is_file():
        digest.update(stack.read_bytes())
        for issue in sorted((kit.root / "issues").glob("*.md")):
            digest.update(issue.read_bytes())
    for patch in read_series(kit.patches):
        digest.update(patch.path.read_bytes())
    return digest.hexdigest()


def write_stamp(path: Path, kit: Kit, *, series: str | None = None, **facts: Any) -> None:
    """Record next to a result which series (and which facts about the run) produced it.

    Pass ``series``, the digest taken when the run started, so that a series edited during
    a long run is not credited with its results.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    digest = series or series_digest(kit)
    path.write_text(json.dumps({"series": digest, **facts}, indent=2, sort_keys=True) + "\n")


def write_result(kit: Kit, name: str, text: str, *, series: str, **facts: Any) -> Path:
    """Write ``<name>.md`` to the results folder with its stamp ``<name>.json``; return the .md."""
    kit.results.mkdir(parents=True, exist_ok=True)
    path = kit.results / f"{name}.md"
    path.write_text(text)
    write_stamp(kit.results / f"{name}.json", kit, series=series, **facts)
    return path


def read_stamp(path: Path) -> dict[str, Any] | None:
    """The stamp at `path`, or None if there is none (or it is unreadable)."""
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None
