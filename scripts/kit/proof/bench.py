"""`make bench`: the edit loop's figures, measured side by side in one run.

1. the kit's own tests (`pytest tests`), against their 20 s budget;
2. `make env` in a fresh clone of this kit (its checkout made first, not timed), against
3. uv doing the same environment: `uv venv`, `uv pip sync requirements.lock` and the checkout
   installed editable, with the same uv and the same warm caches; the budget is 1.2x.

A venv build takes 1-2 s here and consecutive builds drift by half that (the VM's disk), so
two separate runs do not compare: the ratio is taken within each `make env` run, its whole
time over the time it spent in those same uv commands (the kit reports it), as the median
of the rounds. uv alone, run separately with the same commands, is printed beside it.

Timings on shared machines are noisy: compare the ratio, which is measured in one run.
"""

from __future__ import annotations

import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from kit.envs.venv import PYTHON, editable_command, ensure_env, uv, uv_env
from kit.log import KitError, info
from kit.options import Options, child_env
from kit.paths import Kit
from kit.series.pin import Pin

KIT_TESTS_BUDGET = 20.0
ENV_RATIO_BUDGET = 1.2
ROUNDS = 5


def _timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, str]:
    """(seconds, output) of a command that must succeed."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise KitError(f"{' '.join(cmd[:3])} failed in {cwd}: {tail[0]}")
    return seconds, proc.stdout + proc.stderr


def bench(kit: Kit) -> int:
    """Measure and print the three figures; 1 if a budget is exceeded."""
    python = ensure_env(kit)
    info("bench: the kit's own tests ...")
    tests, _ = _timed([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], kit.root)
    uv_bin = uv(kit)
    lock = kit.root / "requirements.lock"
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as tmp:
        clone = Path(tmp) / "clone"
        _timed(["git", "clone", "--quiet", str(kit.root), str(clone)], Path(tmp))
        # Its checkout comes from the sdist in this kit's cache (apply is not what is measured).
        env = child_env(drop=("KIT_PYTHON", "KIT_VENV", "FLOWJAX_DIR"), KIT_CACHE=str(kit.cache))
        _timed(["make", "--no-print-directory", "apply"], clone, env)
        venv = Path(tmp) / "uv-alone"
        python_alone = venv / "bin" / "python"
        uv_alone = [
            [uv_bin, "venv", "--quiet", "--python", PYTHON, str(venv)],
            [uv_bin, "pip", "sync", "--quiet", "--python", str(python_alone), str(lock)],
            editable_command(uv_bin, python_alone, clone / "build/flowjax", isolated=False),
        ]
        alone, made, inside = [], [], []
        for n in range(1, ROUNDS + 1):
            info(
                f"bench: round {n}/{ROUNDS}: uv alone (venv, sync the lock, the checkout editable), then `make env`"
            )
            shutil.rmtree(venv, ignore_errors=True)
            alone.append(sum(_timed(cmd, Path(tmp), uv_env())[0] for cmd in uv_alone))
            shutil.rmtree(clone / ".venv", ignore_errors=True)
            seconds, output = _timed(["make", "--no-print-directory", "env"], clone, env)
            found = re.search(r"\(([\d.]+)s in uv\)", output)
            if found is None:
                raise KitError("`make env` did not report its time in uv")
            made.append(seconds)
            inside.append(float(found.group(1)))
    ratio = statistics.median(m / u for m, u in zip(made, inside, strict=True))
    print(f"kit tests:              {tests:6.1f}s  (budget {KIT_TESTS_BUDGET:.0f}s)", flush=True)
    print(
        f"fresh-clone make env:   {statistics.median(made):6.2f}s  of which in uv "
        f"{statistics.median(inside):.2f}s (make env / its uv = {ratio:.2f}; budget {ENV_RATIO_BUDGET})",
        flush=True,
    )
    print(
        f"uv alone, same env:     {statistics.median(alone):6.2f}s  (separate runs; medians of {ROUNDS})",
        flush=True,
    )
    return 0 if tests <= KIT_TESTS_BUDGET and ratio <= ENV_RATIO_BUDGET else 1


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make bench`."""
    return bench(kit)
