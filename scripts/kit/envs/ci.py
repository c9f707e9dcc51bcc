"""`make envs`: prove the stack in the environments upstream's CI will use.

Upstream's test workflow runs `pip install -e .[dev]`, unpinned, on Python "3.11" and
"3.x", and its docs workflow runs the doctests on "3.x". Four environments stand for that:

- ``locked``: the kit's own `.venv` (requirements.lock), the deterministic gate;
- ``latest-3.11``: upstream's `[dev]` resolved afresh on Python 3.11;
- ``latest``: the same on the newest Python >= 3.12 found on this machine;
- ``lowest``: `uv pip compile --resolution lowest-direct` on 3.11. Direct dependencies that
  upstream leaves unbounded have no meaningful lowest (pytest 2.0.0 does not even build), so
  they are held at the versions current when the lowest allowed jax was released.

Each row runs, in that environment: upstream's tests of the modules the stack touches on
the pin (base) and on the stack (split into the series' own cases and upstream's), the
doctests, the kit's sentinels, and each PR's issue reproducer on the pin and with the
stack. Interpreters come from `KIT_PYTHONS`, else from PATH and pyenv's versions folder.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Any

from kit.checkout.target import Target, require_stack_branch, require_target
from kit.envs.interpreters import Interpreter, find, pick
from kit.envs.venv import ensure_env, install_editable, link_pandoc, uv, uv_env
from kit.evidence.stamps import read_stamp, series_digest, write_result
from kit.git import run as git
from kit.git.worktree import scratch_worktree
from kit.log import KitError, info, step
from kit.options import Options, child_env
from kit.paths import Kit
from kit.proof import docs, reproducer, selection
from kit.proof.pytest import ordered_args, run_pytest, sentinel_args
from kit.proof.tally import Tally, read_cases
from kit.series.pin import Pin
from kit.series.stack import load_stack

# name -> (python wanted, how the environment is resolved)
ENVS = {
    "locked": ("3.11", "lock"),
    "latest-3.11": ("3.11", "highest"),
    "latest": (">=3.12", "highest"),
    "lowest": ("3.11", "lowest-direct"),
}
PACKAGES = ("jax", "jaxlib", "equinox", "paramax", "pytest")


def _run(cmd: list[str], what: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env or uv_env())
    if proc.returncode:
        lines = [ln for ln in (proc.stderr or proc.stdout).strip().splitlines() if ln.strip()]
        detail = next(
            (ln for ln in lines if "error" in ln.lower()), lines[-1] if lines else f"exit {proc.returncode}"
        )
        raise KitError(f"{what} failed: {detail.strip()}")
    return proc.stdout


def direct_requirements(checkout: Path) -> list[str]:
    """Upstream's direct requirements: `dependencies` and the `dev` extra."""
    project = tomllib.loads((checkout / "pyproject.toml").read_text())["project"]
    return [*project.get("dependencies", []), *project.get("optional-dependencies", {}).get("dev", [])]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ ;\[]", requirement, maxsplit=1)[0].strip()


def upload_date(index_url: str, package: str, version: str) -> str:
    """When ``package==version`` reached the index (PEP 691 JSON), as an ISO timestamp.

    Raises:
        KitError: If the index does not say.
    """
    request = urllib.request.Request(
        f"{index_url}/{package}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (index URL)
            files = json.load(response).get("files", [])
    except (OSError, ValueError) as e:
        raise KitError(f"cannot read {package}'s release dates from {index_url}: {e}") from None
    times = [f["upload-time"] for f in files if f"-{version}" in f["filename"] and f.get("upload-time")]
    if not times:
        raise KitError(f"{index_url} gives no upload time for {package} {version}")
    return min(times)


def lowest_floors(kit: Kit, checkout: Path, interp: Interpreter, out: Path) -> tuple[Path, str]:
    """Floors for upstream's unbounded direct dependencies.

    They are their versions on the day the lowest allowed jax was released. Returns the
    constraints file and that date.
    """
    requirements = direct_requirements(checkout)
    jax_floor = next((r for r in requirements if _name(r) == "jax"), "")
    floor = re.search(r">=\s*([\w.]+)", jax_floor)
    if not floor:
        raise KitError("upstream's pyproject gives jax no lower bound")
    # The end of that day: the floor's own files (jax and jaxlib) were uploaded on it.
    date = upload_date(kit.index_url, "jax", floor.group(1))[:10] + "T23:59:59Z"
    unbounded = [_name(r) for r in requirements if not re.search(r"[<>=~]", r)]
    wanted = out / "unbounded.in"
    wanted.write_text("".join(f"{n}\n" for n in unbounded) + f"jax=={floor.group(1)}\n")
    pinned = out / "unbounded.txt"
    _run(
        [
            uv(kit),
            "pip",
            "compile",
            "--quiet",
            "--python",
            str(interp.path),
            "--exclude-newer",
            date,
            str(wanted),
            "-o",
            str(pinned),
        ],
        f"resolving the unbounded dependencies as of {date[:10]}",
    )
    names = {n.lower() for n in unbounded}
    floors = [
        line.split(" ")[0].replace("==", ">=")
        for line in pinned.read_text().splitlines()
        if "==" in line and line.split("==")[0].lower() in names
    ]
    constraints = out / "floors.txt"
    constraints.write_text("".join(f"{f}\n" for f in floors))
    return constraints, date


def build(kit: Kit, name: str, checkout: Path, found: list[Interpreter]) -> tuple[Path, str]:
    """Create or update the environment ``name``; return its python and how it was made.

    Raises:
        KitError: One line saying why it cannot be built.
    """
    wanted, how = ENVS[name]
    if how == "lock":
        return ensure_env(kit), "requirements.lock"
    interp = pick(found, wanted)
    if interp is None:
        raise KitError(f"no Python {wanted} found (PATH, pyenv, or KIT_PYTHONS)")
    folder = kit.build / "envs" / name
    folder.mkdir(parents=True, exist_ok=True)
    requirements = folder / "requirements.txt"
    compile_cmd = [uv(kit), "pip", "compile", "--quiet", "--python", str(interp.path)]
    note = f"upstream's [dev], resolved afresh ({time.strftime('%Y-%m-%d')})"
    if how == "lowest-direct":
        floors, date = lowest_floors(kit, checkout, interp, folder)
        compile_cmd += ["--resolution", "lowest-direct", "-c", str(floors)]
        note = f"lowest-direct; unbounded dependencies as of {date[:10]}"
    with step(f"resolve {name} (Python {interp.short})"):
        _run(
            [*compile_cmd, str(checkout / "pyproject.toml"), "--extra", "dev", "-o", str(requirements)],
            f"{name}: uv pip compile",
        )
    venv = folder / "venv"
    python = venv / "bin" / "python"
    stamp = folder / ".kit-stamp"
    digest = hashlib.sha256(requirements.read_bytes() + str(interp.path.resolve()).encode()).hexdigest()
    if not (python.is_file() and stamp.is_file() and stamp.read_text() == digest):
        with step(f"build {name} in {venv}"):
            if venv.exists():
                shutil.rmtree(venv)  # the kit's own build output
            _run([uv(kit), "venv", "--quiet", "--python", str(interp.path), str(venv)], f"{name}: uv venv")
            _run(
                [uv(kit), "pip", "sync", "--quiet", "--python", str(python), str(requirements)],
                f"{name}: uv pip sync",
            )
            # Upstream's docs workflow installs pandoc with apt; here it comes as a wheel.
            _run(
                [uv(kit), "pip", "install", "--quiet", "--python", str(python), "pypandoc_binary"],
                f"{name}: pandoc",
            )
            link_pandoc(python)
        stamp.write_text(digest)
    install_editable(kit, python, checkout, isolated=True)  # as upstream's CI: `pip install -e .`
    return python, note


def versions(python: Path) -> dict[str, str]:
    """Python and the versions of PACKAGES installed in an environment."""
    code = (
        "import sys, importlib.metadata as m\n"
        "print('python', '.'.join(map(str, sys.version_info[:3])))\n"
        f"for p in {PACKAGES!r}:\n"
        "    try: print(p, m.version(p))\n"
        "    except m.PackageNotFoundError: print(p, '-')\n"
    )
    out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False).stdout
    return dict(line.split(" ", 1) for line in out.splitlines() if " " in line)


def _count(tally: Tally | None, error: str = "") -> str:
    if tally is None:
        return f"error: {error}" if error else "-"
    return f"{tally.passed} passed, {tally.failed} failed"


def run_env(
    kit: Kit, pin: Pin, target: Target, name: str, found: list[Interpreter], base_ids: set[str]
) -> dict:
    """Build one environment and run everything in it; return its row."""
    start = time.perf_counter()
    info(f"envs: {name} ...")
    row: dict = {"env": name}
    try:
        python, how = build(kit, name, target.repo, found)
    except KitError as e:
        info(f"envs: {name}: not built: {e}")
        return row | {"error": str(e), "seconds": time.perf_counter() - start}
    row |= {"how": how, **versions(python)}
    env = child_env(path_first=python.parent)
    out = kit.results / "envs" / name
    paths = selection.touched_tests(target.repo, target.base, "HEAD")
    texts = reproducer.issue_texts(kit, load_stack(kit.patches, pin.branch).prs)
    with scratch_worktree(target.repo, target.base) as base:
        row["upstream_pin"] = _pytest_cell(python, paths, base, out / "pin.xml", env)
    # Each issue's reproducer on the release, and with the stack (the checkout as it is).
    found = {
        pr.name: reproducer.reproduce(python, t, target.repo, target.base, fixed=target.repo, env=env)
        for pr, t in texts
    }
    row["reproducer_pin"] = {n: reproducer.summary(r.before) for n, r in found.items()}
    row["reproducer_pin_ok"] = all(not reproducer.problems_on_pin(r.before, r.text) for r in found.values())
    xml = out / "stack.xml"
    stack_cell = _pytest_cell(
        python, stack_args(python, target.repo, paths, base_ids, env), target.repo, xml, env
    )
    if xml.is_file() and "error" not in stack_cell:
        new, upstream = selection.split(read_cases(xml), base_ids)
        row["series"] = _cases_cell(new)
        row["upstream_stack"] = _cases_cell(upstream)
    else:
        row["series"] = row["upstream_stack"] = stack_cell
    try:
        row["doctests"] = _count(docs.doctest(python, target.repo, out / "doctest"))
    except KitError as e:
        row["doctests"] = f"error: {e}"
    args = sentinel_args(kit, pin, target.repo)
    row["sentinels"] = _pytest_cell(python, args, target.repo, out / "sentinels.xml", env) if args else "-"
    row["reproducer_stack"] = {n: reproducer.summary(r.after) for n, r in found.items() if r.after}
    row["reproducer_stack_ok"] = all(
        r.after is not None and not reproducer.problems_with_fix(r.after, r.text) for r in found.values()
    )
    # Only where upstream's own tests run and pass is a failure the stack's fault; and the
    # stack must not leave upstream's tests worse off than on the pin.
    upstream_ok = not _failed(row["upstream_stack"]) and _passed(row["upstream_stack"]) > 0
    row["series_fails_alone"] = upstream_ok and _failed(row["series"])
    row["reproducer_fails_alone"] = upstream_ok and not row["reproducer_stack_ok"]
    row["upstream_worse"] = _failures(row["upstream_stack"]) > _failures(row["upstream_pin"])
    row["seconds"] = time.perf_counter() - start
    info(
        f"envs: {name}: series {row['series']}; upstream (pin) {row['upstream_pin']}; "
        f"upstream (stack) {row['upstream_stack']}; doctests {row['doctests']} ({row['seconds']:.0f}s)"
    )
    return row


def stack_args(
    python: Path, repo: Path, paths: list[str], base_ids: set[str], env: dict[str, str]
) -> list[str]:
    """Every case the series adds, then upstream's cases of the same files, in one session.

    State a new test leaves behind (``jax_enable_x64`` above all) would then fail upstream's
    tests after it. Files that cannot be collected run as given, so the row says why.
    """
    try:
        ids = selection.collect(python, repo, paths, env)
    except KitError:
        return paths
    return ordered_args("new-first", sorted(ids - base_ids), sorted(ids & base_ids))


def fault(row: dict[str, Any]) -> str | None:
    """Why the stack is at fault in this row of the table, or None where it is not."""
    if row.get("series_fails_alone"):
        return (
            f"in env {row['env']} the series' tests fail ({row['series']}) while upstream's pass "
            f"({row['upstream_stack']}): fix the series there first"
        )
    if row.get("upstream_worse"):
        return (
            f"in env {row['env']} upstream's tests do worse with the stack ({row['upstream_stack']}) "
            f"than on the pin ({row['upstream_pin']}): fix the stack there first"
        )
    if row.get("reproducer_fails_alone"):
        return (
            f"in env {row['env']} the issue reproducer still fails with the stack while upstream's tests pass"
        )
    return None


def _pytest_cell(python: Path, args: list[str], cwd: Path, xml: Path, env: dict[str, str]) -> str:
    try:
        run_pytest(python, ["-q", *args], cwd, xml, env)
    except KitError as e:
        return f"error: {e}"
    return _cases_cell(read_cases(xml))


def _cases_cell(cases: list) -> str:
    """``P passed, F failed``, saying why when files failed to collect."""
    failed = sum(c.outcome == "failed" for c in cases)
    passed = sum(c.outcome == "passed" for c in cases)
    broken = [c for c in cases if c.collection_error]
    why = f" ({len(broken)} files fail to import: {broken[0].message})" if broken else ""
    return f"{passed} passed, {failed} failed{why}"


def _failed(cell: str) -> bool:
    return cell.startswith("error") or " 0 failed" not in cell


def _passed(cell: str) -> int:
    found = re.match(r"(\d+) passed", cell)
    return int(found.group(1)) if found else 0


def _failures(cell: str) -> float:
    """Failures in a cell; an error (nothing ran) counts as the worst."""
    found = re.search(r"(\d+) failed", cell)
    return int(found.group(1)) if found else float("inf")


def markdown(rows: list[dict]) -> str:
    """The table, with a key."""
    lines = [
        "The stack in upstream's CI environments. *upstream (pin)*: upstream's tests of the "
        "modules the stack touches, on the unpatched release; *upstream (stack)* and *series*: "
        "the same files on the stack, split into upstream's cases and the series' own; "
        "*reproducer*: the issue text's reproducer on the pin -> with the stack.",
        "",
        "| env | python | jax | jaxlib | equinox | paramax | pytest | series | upstream (pin) "
        "| upstream (stack) | doctests | sentinels | reproducer | time |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        if "error" in row:
            lines.append(f"| {row['env']} | not built: {row['error'].replace('|', '/')} |" + " - |" * 12)
            continue
        repro = (
            "; ".join(
                f"{row['reproducer_pin'][n]} -> {row['reproducer_stack'][n]}" for n in row["reproducer_pin"]
            )
            or "-"
        )
        cells = [
            row["env"],
            row.get("python", "-"),
            *(row.get(p, "-") for p in PACKAGES),
            row["series"],
            row["upstream_pin"],
            row["upstream_stack"],
            row["doctests"],
            row["sentinels"],
            repro,
            f"{row['seconds']:.0f}s",
        ]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def matrix(kit: Kit, pin: Pin, target: Target, names: list[str], opts: Options) -> int:
    """Run the environment matrix, print and write it; 1 if the series fails where upstream passes."""
    require_stack_branch(target, pin)
    unknown = [n for n in names if n not in ENVS]
    if unknown:
        raise KitError(f"no environment named {unknown[0]!r} (known: {', '.join(ENVS)})")
    start = time.perf_counter()
    digest = series_digest(kit)  # the series these results will be of
    found = find(opts)
    info("envs: interpreters found: " + ", ".join(f"{i.short} ({i.path})" for i in found))
    base_ids = selection.base_node_ids(ensure_env(kit), target.repo, target.base, kit.build / "nodeids")
    fresh = {name: run_env(kit, pin, target, name, found, base_ids) for name in names}
    # A subset (ENVS=...) updates its rows of a table made for this same series.
    previous = read_stamp(kit.results / "envs.json") or {}
    kept = {r["env"]: r for r in previous.get("rows", [])} if previous.get("series") == digest else {}
    rows = [fresh.get(name) or kept[name] for name in ENVS if name in fresh or name in kept]
    table = markdown(rows)
    write_result(
        kit,
        "envs",
        table,
        series=digest,
        rows=rows,
        tree=git.out(target.repo, "rev-parse", "HEAD^{tree}"),
        made=time.strftime("%Y-%m-%d %H:%M"),
    )
    print(table, end="", flush=True)
    bad = [problem for r in rows if (problem := fault(r))]
    minutes = (time.perf_counter() - start) / 60
    info(f"envs: {len(rows)} environments in {minutes:.1f} min; written to {kit.results / 'envs.md'}")
    for problem in bad:
        info(f"envs: {problem}")
    return 1 if bad else 0


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make envs` (``ENVS=`` a subset, ``KIT_PYTHONS=`` the interpreters)."""
    names = list(opts.envs) or list(ENVS)
    return matrix(kit, pin, require_target(kit, pin, opts.upstream_ref), names, opts)
