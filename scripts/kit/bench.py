"""`make bench`: the edit loop's figures, measured side by side in one run.

1. the kit's own tests (`pytest tests`), against their 20 s budget;
2. `make env` in a fresh clone of this kit (its checkout made first, not timed), against
3. uv alone doing the same environment: `uv venv` + `uv pip sync requirements.lock`, with the
   same uv and the same warm caches; the budget is 1.2x.

Timings on shared machines are noisy: compare the ratio, which is measured in one run.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from kit.config import Kit
from kit.env import PYTHON, ensure_env, uv, uv_env
from kit.log import KitError, info

KIT_TESTS_BUDGET = 20.0
ENV_RATIO_BUDGET = 1.2


def _timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["no output"]
        raise KitError(f"{' '.join(cmd[:3])} failed in {cwd}: {tail[0]}")
    return seconds


def bench(kit: Kit) -> int:
    """Measure and print the three figures; 1 if a budget is exceeded."""
    python = ensure_env(kit)
    info("bench: the kit's own tests ...")
    tests = _timed([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"], kit.root)
    uv_bin = uv(kit)
    lock = kit.root / "requirements.lock"
    with tempfile.TemporaryDirectory(prefix="kit-bench-") as tmp:
        info("bench: uv alone (uv venv + uv pip sync requirements.lock) ...")
        venv = Path(tmp) / "uv-alone"
        alone = _timed([uv_bin, "venv", "--quiet", "--python", PYTHON, str(venv)], Path(tmp), uv_env())
        alone += _timed(
            [uv_bin, "pip", "sync", "--quiet", "--python", str(venv / "bin" / "python"), str(lock)],
            Path(tmp),
            uv_env(),
        )
        info("bench: a fresh clone's `make env` ...")
        clone = Path(tmp) / "clone"
        _timed(["git", "clone", "--quiet", str(kit.root), str(clone)], Path(tmp))
        # Its checkout comes from the sdist in this kit's cache (apply is not what is measured).
        env = {k: v for k, v in os.environ.items() if k not in ("KIT_PYTHON", "KIT_VENV", "FLOWJAX_DIR")}
        env["KIT_CACHE"] = str(kit.cache)
        _timed(["make", "--no-print-directory", "apply"], clone, env)
        made = _timed(["make", "--no-print-directory", "env"], clone, env)
    ratio = made / alone
    print(f"kit tests:             {tests:6.1f}s  (budget {KIT_TESTS_BUDGET:.0f}s)", flush=True)
    print(f"fresh-clone make env:  {made:6.1f}s", flush=True)
    print(
        f"uv alone, same lock:   {alone:6.1f}s  (make env / uv = {ratio:.2f}; budget {ENV_RATIO_BUDGET})",
        flush=True,
    )
    return 0 if tests <= KIT_TESTS_BUDGET and ratio <= ENV_RATIO_BUDGET else 1
