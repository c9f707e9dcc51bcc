"""The CPython interpreters on this machine: from KIT_PYTHONS, else PATH and pyenv; picked by version."""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path

from kit.options import Options


@dataclasses.dataclass(frozen=True)
class Interpreter:
    """A CPython found on this machine."""

    path: Path
    version: tuple[int, int, int]

    @property
    def short(self) -> str:
        return ".".join(map(str, self.version))


def _candidates(opts: Options) -> list[Path]:
    if opts.kit_pythons:
        return [Path(p) for p in opts.kit_pythons]
    found = []
    for folder in opts.path.split(os.pathsep):
        if Path(folder).name == "shims":  # pyenv's dispatchers: the versions folder has them
            continue
        for name in ("python3", *(f"python3.{minor}" for minor in range(8, 20))):
            if (Path(folder) / name).is_file():
                found.append(Path(folder) / name)
    root = Path(opts.pyenv_root or (Path(opts.home) if opts.home else Path.home()) / ".pyenv")
    found += sorted(root.glob("versions/*/bin/python3"))
    return found


def find(opts: Options) -> list[Interpreter]:
    """Every distinct CPython 3 among the candidates (KIT_PYTHONS, else PATH and pyenv), newest first."""
    seen, out = set(), []
    for path in _candidates(opts):
        real = path.resolve()
        if real in seen or not os.access(real, os.X_OK):
            continue
        seen.add(real)
        proc = subprocess.run(
            [str(path), "-c", "import sys; print(*sys.version_info[:3])"],
            capture_output=True,
            text=True,
            check=False,
        )
        parts = proc.stdout.split()
        if proc.returncode == 0 and len(parts) == 3 and parts[0] == "3":
            out.append(Interpreter(path, (3, int(parts[1]), int(parts[2]))))
    return sorted(out, key=lambda i: i.version, reverse=True)


def pick(found: list[Interpreter], wanted: str) -> Interpreter | None:
    """The newest interpreter matching ``3.11`` (that minor) or ``>=3.12`` (that or newer)."""
    minimum = wanted.startswith(">=")
    major, minor = (int(x) for x in wanted.removeprefix(">=").split("."))
    for interp in found:
        if (minimum and interp.version[:2] >= (major, minor)) or interp.version[:2] == (major, minor):
            return interp
    return None
