"""The kit's own tests as a stage of `make test`; skipped in the edit loop while the kit's code is unchanged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from kit.evidence.current import kit_tests_green
from kit.evidence.stamps import KIT_TESTS
from kit.paths import Kit
from kit.proof.pytest import run_pytest
from kit.proof.tally import Tally


def kit_code_digest(kit: Kit) -> str:
    """sha256 over the kit's code and its own tests: what the kit tests can depend on."""
    digest = hashlib.sha256()
    files = [*sorted((kit.root / "scripts").rglob("*.py")), *sorted((kit.root / "tests").rglob("*.py"))]
    for path in [*files, kit.root / "pyproject.toml", kit.root / "Makefile"]:
        if path.is_file():
            digest.update(str(path.relative_to(kit.root)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def kit_tests(kit: Kit, python: Path, *, fast: bool, log: Path | None = None) -> Tally | str:
    """The kit's own tests; in the edit loop, skipped while the kit's code is unchanged since green."""
    digest = kit_code_digest(kit)
    if fast and kit_tests_green(kit, digest):
        return "kit code unchanged since its last green run"
    tally = run_pytest(python, ["-q", "tests"], kit.root, kit.results / "kit.xml", log=log)
    (kit.results / KIT_TESTS).write_text(json.dumps({"kit_code": digest, "failed": tally.failed}) + "\n")
    return tally
