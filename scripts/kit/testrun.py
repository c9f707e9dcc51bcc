"""`make test`: the stages that prove the patches, each timed, closing on one summary line."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kit import docs, gitutil, mutate
from kit.apply import resolve_target
from kit.config import Kit, Pin, new_test_files
from kit.env import ensure_env
from kit.log import KitError, info
from kit.sources import drift
from kit.stamp import write_stamp
from kit.tally import Tally, read_junit


def run_pytest(
    python: Path, args: list[str], cwd: Path, xml: Path, env: dict[str, str] | None = None
) -> Tally:
    """Run pytest (output streamed), then read its JUnit XML.

    Raises:
        KitError: If pytest collected no tests (exit 5) or crashed before writing results.
    """
    xml.parent.mkdir(parents=True, exist_ok=True)
    xml.unlink(missing_ok=True)
    code = subprocess.run(
        [str(python), "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={xml}", *args],
        cwd=cwd,
        env=env,
        check=False,
    ).returncode
    if code == 5:
        raise KitError(f"pytest collected no tests in {cwd} ({' '.join(args)})")
    if not xml.is_file():
        raise KitError(f"pytest exited {code} without results in {cwd}")
    tally = read_junit(xml)
    if code != 0 and tally.failed == 0:
        raise KitError(f"pytest exited {code} in {cwd} with no failing test recorded")
    return tally


ORDERS = ("natural", "new-first", "upstream-first")


def pytest_args(pin: Pin, repo: Path, *, upstream: bool, order: str) -> list[str]:
    """Arguments for one pytest session: the new files, and upstream's suite in ``order``.

    ``natural`` is how upstream's CI runs it (``pytest tests``: files in name order, the
    new ones in their place); the other two put every new file first or last.
    """
    new = new_test_files(pin)
    if not upstream:
        return new
    if order == "natural":
        return ["tests"]
    if order == "new-first":
        return [*new, "tests"]
    rest = sorted(
        str(p.relative_to(repo)) for p in (repo / "tests").iterdir() if str(p.relative_to(repo)) not in new
    )
    return [p for p in rest if not p.endswith("__pycache__")] + new


def ruff_problems(python: Path, repo: Path, base: str) -> list[str]:
    """Ruff findings (upstream's config) in files the series adds, and new ones in files it edits."""
    ruff = str(python.parent / "ruff")
    changed = gitutil.out(repo, "diff", "--name-status", f"{base}..HEAD", "--", "*.py").splitlines()
    added = [line.split("\t")[-1] for line in changed if line[0] == "A"]
    edited = [line.split("\t")[-1] for line in changed if line[0] == "M"]
    problems = []
    for cmd in (["check", "--quiet"], ["format", "--check", "--quiet"]):
        if added:
            proc = subprocess.run([ruff, *cmd, *added], cwd=repo, capture_output=True, text=True, check=False)
            if proc.returncode:
                problems.append(f"ruff {cmd[0]}: {(proc.stdout + proc.stderr).strip()}")
    for path in edited:
        before = _findings(ruff, repo, path, gitutil.run(repo, "show", f"{base}:{path}").stdout)
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


@dataclass
class Stage:
    """A named step of `make test`."""

    name: str
    run: Callable[[], Tally | list[str]]


def run_stages(stages: list[Stage], results: Path) -> int:
    """Run every stage, print a timing table and the closing summary line; return an exit code."""
    total, rows, failed_stages = Tally(), [], []
    check_failures = 0  # failing stages that are not test runs (drift, ruff, ...)
    start = time.perf_counter()
    for stage in stages:
        info(f"stage {stage.name} ...")
        t0 = time.perf_counter()
        try:
            outcome = stage.run()
        except KitError as e:
            outcome = [str(e)]
        seconds = time.perf_counter() - t0
        if isinstance(outcome, Tally):
            total += outcome
            ok = outcome.failed == 0
            detail = f"{outcome.passed} passed, {outcome.failed} failed"
        else:
            ok = not outcome
            for problem in outcome:
                info(f"  {problem}")
            detail = "ok" if ok else f"{len(outcome)} problem(s)"
            check_failures += not ok
        rows.append((stage.name, detail, seconds))
        if not ok:
            failed_stages.append(stage.name)
        info(f"stage {stage.name}: {detail} in {seconds:.1f}s")
    info("stage timings:")
    for name, detail, seconds in rows:
        info(f"  {name:<28} {seconds:7.1f}s  {detail}")
    info(f"total {time.perf_counter() - start:.1f}s; results in {results}")
    if failed_stages:
        info(f"failed stages: {', '.join(failed_stages)}")
    failed = total.failed + check_failures
    print(f"summary: {total.passed} passed, {failed} failed, {total.skipped} skipped", flush=True)
    return 1 if failed_stages else 0


def test(kit: Kit, pin: Pin, *, fast: bool, order: str, tag: str | None) -> int:
    """Run the stages of `make test` (or `make test-fast`)."""
    if order not in ORDERS:
        raise KitError(f"ORDER={order!r} is not one of {', '.join(ORDERS)}")
    target = resolve_target(kit, pin, tag or pin.tag)
    if target is None:
        raise KitError(f"no checkout at {kit.checkout}; run `make apply` first")
    python = ensure_env(kit)
    results = kit.results

    def flowjax_stage() -> Tally:
        args = pytest_args(pin, target.repo, upstream=not fast, order=order)
        tally = run_pytest(python, ["-q", *args], target.repo, results / "flowjax.xml")
        new = {Path(p).stem for p in new_test_files(pin)}
        mine = sum(s for f, s in tally.seconds_by_file.items() if f in new)
        rest = sum(s for f, s in tally.seconds_by_file.items() if f not in new)
        info(
            f"  time in new test file(s): {mine:.1f}s; upstream's tests: {rest:.1f}s"
            + (f" (new = {100 * mine / rest:.0f}% of upstream)" if rest else "")
        )
        return tally

    stages = [
        Stage("kit tests", lambda: run_pytest(python, ["-q", "tests"], kit.root, results / "kit.xml")),
        Stage("flowjax tests" if fast else f"flowjax tests + upstream suite ({order})", flowjax_stage),
        Stage("docs doctest (sphinx)", lambda: docs.doctest(python, target.repo, results / "doctest")),
        Stage(
            "docs html (new warnings)", lambda: docs.build(kit, python, target.repo, target.base, pin.sources)
        ),
        Stage("drift check", lambda: drift(kit, pin)),
        Stage("mutation catalogue fits", lambda: mutate.catalogue_problems(target.repo)),
        Stage("ruff (upstream config)", lambda: ruff_problems(python, target.repo, target.base)),
    ]
    code = run_stages(stages, results)
    write_stamp(
        results / "stamp.json",
        kit,
        upstream_suite=not fast,
        order=order,
        version=pin.version,
        tree=gitutil.out(target.repo, "rev-parse", "HEAD^{tree}"),
        exit_code=code,
    )
    return code
