"""The locked test environment (`.venv`), built with uv from the system Python."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kit.log import KitError, info, step
from kit.options import Options, child_env
from kit.paths import Kit
from kit.series.pin import Pin

UV_REQUIREMENTS = Path(__file__).with_name("uv-requirements.txt")  # version and hashes
PYTHON = "3.11"
_TOOL_SECONDS = [0.0]


def tool_seconds() -> float:
    """Seconds this process has spent waiting on the uv (and pip) commands it ran."""
    return _TOOL_SECONDS[0]


def _run(cmd: list[str], what: str) -> None:
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=uv_env())
    _TOOL_SECONDS[0] += time.perf_counter() - start
    if proc.returncode != 0:
        lines = (proc.stderr or proc.stdout).strip().splitlines()
        raise KitError(f"{what} failed: {lines[-1] if lines else f'exit {proc.returncode}'}")


def uv_env() -> dict[str, str]:
    """Environment for uv commands."""
    # The system Pythons only: this machine cannot download managed Pythons.
    return child_env(UV_PYTHON_DOWNLOADS="never", UV_PYTHON_PREFERENCE="only-system")


def uv_version() -> str:
    """The uv version the kit bootstraps (from uv-requirements.txt)."""
    found = re.search(r"^uv==([\w.]+)", UV_REQUIREMENTS.read_text(), re.M)
    assert found, UV_REQUIREMENTS
    return found.group(1)


def uv(kit: Kit) -> str:
    """Path of a uv binary: the one on PATH, else the kit's pinned uv in the user's cache.

    The pinned uv is installed once per user (not per clone) with pip, whose
    ``--require-hashes`` checks the wheel against uv-requirements.txt.
    """
    found = shutil.which("uv")
    if found:
        return found
    version = uv_version()
    home = kit.tools_dir / f"uv-{version}"
    binary = home / "bin" / "uv"
    if not binary.is_file():
        home.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=home.parent) as tmp, step(f"install uv {version} into {home}"):
            _run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--require-hashes",
                    "--no-deps",
                    "--target",
                    tmp,
                    "-r",
                    str(UV_REQUIREMENTS),
                ],
                "pip install uv",
            )
            if not home.exists():
                Path(tmp).rename(home)  # another clone may have installed it meanwhile
                Path(tmp).mkdir()  # for TemporaryDirectory's cleanup
    return str(binary)


def _stamp(lock: Path) -> str:
    return hashlib.sha256(lock.read_bytes()).hexdigest()


def ensure_env(kit: Kit) -> Path:
    """Create or update the environment from `requirements.lock`; install the checkout editable.

    ``KIT_PYTHON`` (`kit.python`) names an interpreter to use instead (the kit's own tests set it).

    Returns:
        The environment's python.
    """
    if kit.python is not None:
        return kit.python
    venv = kit.venv_dir
    python = venv / "bin" / "python"
    lock = kit.root / "requirements.lock"
    stamp = venv / ".kit-lock-sha256"
    if python.is_file() and stamp.is_file() and stamp.read_text() == _stamp(lock):
        info(f"environment {venv} matches {lock.name}")
    else:
        uv_bin = uv(kit)
        if not python.is_file():
            with step(f"create {venv} (Python {PYTHON}, system interpreter)"):
                _run([uv_bin, "venv", "--quiet", "--python", PYTHON, str(venv)], "uv venv")
        with step(f"install {lock.name} into {venv}"):
            _run([uv_bin, "pip", "sync", "--quiet", "--python", str(python), str(lock)], "uv pip sync")
        link_pandoc(python)
        stamp.write_text(_stamp(lock))
    _install_checkout(kit, python)
    return python


def link_pandoc(python: Path) -> None:
    """Put the pandoc shipped by pypandoc_binary on the environment's PATH (bin/).

    The wheel keeps it in ``site-packages/pypandoc/files/`` (found without starting Python).
    """
    venv = python.parent.parent
    found = sorted(venv.glob("lib/python3*/site-packages/pypandoc/files/pandoc"))
    if not found:
        raise KitError(f"pypandoc_binary's pandoc was not found in {venv}")
    link = python.parent / "pandoc"
    link.unlink(missing_ok=True)
    link.symlink_to(found[0])


def _install_checkout(kit: Kit, python: Path) -> None:
    """Install the checkout's FlowJAX into the environment, editable, when it is not already."""
    marker = python.parent.parent / ".kit-flowjax"
    if marker.is_file() and marker.read_text() == str(kit.checkout):
        return
    if not (kit.checkout / "pyproject.toml").is_file():
        raise KitError(f"{kit.checkout} is not a FlowJAX checkout; run `make apply` first")
    with step(f"install {kit.checkout} into the environment (editable)"):
        install_editable(kit, python, kit.checkout, isolated=False)
    marker.write_text(str(kit.checkout))


def install_editable(kit: Kit, python: Path, checkout: Path, *, isolated: bool) -> None:
    """`pip install --no-deps -e checkout` with uv.

    ``isolated`` builds in an isolated environment (fetching hatchling), as upstream's CI
    does; otherwise the environment's own hatchling is used (the lock has it).
    """
    _run(editable_command(uv(kit), python, checkout, isolated=isolated), "editable install of the checkout")


def editable_command(uv_bin: str, python: Path, checkout: Path, *, isolated: bool) -> list[str]:
    """The uv command that installs ``checkout`` editable, without its dependencies."""
    isolation = [] if isolated else ["--no-build-isolation"]
    return [
        uv_bin,
        "pip",
        "install",
        "--quiet",
        "--python",
        str(python),
        "--no-deps",
        *isolation,
        "--editable",
        str(checkout),
    ]


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make env`: create or update `.venv`; print its python and the time spent in uv."""
    python = ensure_env(kit)
    info(f"python: {python} ({tool_seconds():.3f}s in uv)")
    return 0
