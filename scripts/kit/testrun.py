"""`make test`: the stages that prove each PR and the stack, timed, closing on one summary line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kit import carried, docs, issue, mutate, proofs
from kit.config import Pin
from kit.env import ensure_env
from kit.envs import fault
from kit.git import run as git
from kit.git.patch import am_all
from kit.git.worktree import scratch_worktree
from kit.log import KitError, info
from kit.paths import Kit
from kit.pytest_run import ORDERS, ordered_args, run_pytest, sentinel_args
from kit.sources import drift
from kit.stack import PR, Stack, load_stack
from kit.stamp import read_stamp, series_digest, write_stamp
from kit.state import Target, branch_pr, require_on_base, require_target
from kit.tally import Tally, read_cases

# `make test`'s total, as a multiple of its stack stage, stays at most this (printed, not enforced).
TOTAL_OVER_STACK = 1.5
# `make test` runs its stages on this many workers (one per core of a 2-core machine): the
# stack stage on one, every other stage in order on the other.
STAGE_WORKERS = 2


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


@dataclass
class Stage:
    """A named step of `make test`."""

    name: str
    run: Callable[[], Tally | list[str] | str]


def _run_one(stage: Stage) -> tuple[Tally | list[str] | str, float]:
    info(f"stage {stage.name} ...")
    t0 = time.perf_counter()
    try:
        outcome = stage.run()
    except KitError as e:
        outcome = [str(e)]
    seconds = time.perf_counter() - t0
    info(f"stage {stage.name}: done in {seconds:.1f}s")
    return outcome, seconds


def run_stages(
    stages: list[Stage],
    results: Path,
    notes: list[str] = (),
    reference: str | None = None,
    workers: int = 1,
) -> int:
    """Run every stage, print a timing table and the closing summary line; return an exit code.

    With ``reference`` (a stage's name), the total is also printed as a multiple of that stage.
    With ``workers`` > 1 the stages run side by side, the reference stage (the longest) first,
    the others in their order on the remaining workers; the table keeps their order.

    A stage returns a Tally (tests), a list of problems (a check), or a string: a note that
    it was skipped, and why.
    """
    total, rows, failed_stages = Tally(), [], []
    check_failures = 0  # failing stages that are not test runs (drift, ruff, ...)
    start = time.perf_counter()
    first = sorted(stages, key=lambda st: st.name != reference)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {id(stage): pool.submit(_run_one, stage) for stage in first}
        done = [(stage, futures[id(stage)].result()) for stage in stages]
    for stage, (outcome, seconds) in done:
        ok = True
        if isinstance(outcome, Tally):
            total += outcome
            ok = outcome.failed == 0
            detail = f"{outcome.passed} passed, {outcome.failed} failed"
        elif isinstance(outcome, str):
            detail = f"skipped ({outcome})"
        else:
            ok = not outcome
            for problem in outcome:
                info(f"  {stage.name}: {problem}")
            detail = "ok" if ok else f"{len(outcome)} problem(s)"
            check_failures += not ok
        rows.append((stage.name, detail, seconds))
        if not ok:
            failed_stages.append(stage.name)
    info("stage timings:")
    for name, detail, seconds in rows:
        info(f"  {name:<40} {seconds:7.1f}s  {detail}")
    elapsed = time.perf_counter() - start
    info(f"total {elapsed:.1f}s; results in {results}")
    ref_seconds = next((sec for name, _, sec in rows if name == reference), 0.0)
    if ref_seconds:
        info(
            f"total / stack stage: {elapsed:.0f}s / {ref_seconds:.0f}s = {elapsed / ref_seconds:.2f}x "
            f"(target <= {TOTAL_OVER_STACK}x)"
        )
    if failed_stages:
        info(f"failed stages: {', '.join(failed_stages)}")
    for note in notes:
        info(note)
    failed = total.failed + check_failures
    print(f"summary: {total.passed} passed, {failed} failed, {total.skipped} skipped", flush=True)
    return 1 if failed_stages else 0


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
    stamp_path = kit.results / "kit-tests.json"
    digest = kit_code_digest(kit)
    if fast:
        stamp = read_stamp(stamp_path)
        if stamp and stamp.get("kit_code") == digest and stamp.get("failed") == 0:
            return "kit code unchanged since its last green run"
    tally = run_pytest(python, ["-q", "tests"], kit.root, kit.results / "kit.xml", log=log)
    stamp_path.write_text(json.dumps({"kit_code": digest, "failed": tally.failed}) + "\n")
    return tally


def apply_in(work: Path, patches: list, what: str) -> None:
    """`git am` ``patches`` in a scratch worktree, as the kit.

    Raises:
        KitError: Naming the patch that does not apply.
    """
    if failure := am_all(work, [p.path for p in patches]):
        raise KitError(f"{what}: {failure.patch.name} does not apply: {failure.detail}")


def prove_alone(kit: Kit, python: Path, target: Target, stack: Stack, pr: PR, base_ids: set[str]) -> Tally:
    """Apply ``pr`` with only its dependencies to the base, in a scratch worktree, and test it.

    Runs the test ids the PR adds or changes and upstream's tests of the library modules it
    edits (`carried.proof_args`); the doctests when it edits docs/ or a docstring example.
    The stack stage runs the whole suite on top of every PR. Pytest's output goes to
    ``results/pr-<name>.log``, so that two proofs can run at once.
    """
    with scratch_worktree(target.repo, target.base) as work:
        apply_in(work, stack.patches_for(pr.name), f"PR {pr.name} alone on {target.base_name}")
        args = carried.proof_args(python, work, target.base, base_ids)
        files = sorted({a.split("::")[0] for a in args})
        log = kit.results / f"pr-{pr.name}.log"
        info(
            f"  PR {pr.name} ({', '.join(stack.names_in(pr.name))}): {len(args)} pytest args in {', '.join(files)}"
        )
        t0 = time.perf_counter()
        tally = run_pytest(python, ["-q", *args], work, kit.results / f"pr-{pr.name}.xml", log=log)
        if carried.touches_doctests(work, target.base, "HEAD"):
            tally += docs.doctest(python, work, kit.results / f"pr-{pr.name}-doctest", pythonpath=work)
        info(
            f"  PR {pr.name}: {tally.passed} passed, {tally.failed} failed in "
            f"{time.perf_counter() - t0:.1f}s (pytest output: {log})"
        )
    return tally


def reproducer_problems(python: Path, target: Target, stack: Stack, pr: PR, kit: Kit) -> list[str]:
    """The PR's issue reproducer, as written: it fails on the pin and passes with the PR."""
    text = issue.load(kit.root / str(pr.issue))
    with scratch_worktree(target.repo, target.base) as work:
        before = issue.run(python, work, text)
        apply_in(work, stack.patches_for(pr.name), f"PR {pr.name}")
        after = issue.run(python, work, text)
    lines = f"on {target.base_name}: {issue.summary(before)}; with this PR: {issue.summary(after)}"
    info(f"  {lines}")
    problems = issue.problems_on_pin(before, text) + issue.problems_with_fix(after, text)
    log = kit.results / f"reproducer-{pr.name}.txt"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text(lines + "\n" if not problems else "")
    return problems


def matrix_note(kit: Kit) -> str:
    """One line on the environment matrix (`make envs`): missing, stale, or current."""
    stamp = read_stamp(kit.results / "envs.json")
    if stamp is None:
        return "env matrix: not run; `make envs` proves the stack in upstream's CI environments"
    if stamp.get("series") != series_digest(kit):
        return "env matrix: STALE (made for another version of the series); run `make envs`"
    rows = stamp.get("rows", [])
    bad = [row["env"] for row in rows if fault(row)]
    state = f"the stack is at fault in {', '.join(bad)}" if bad else "no env where the stack is at fault"
    return f"env matrix: current ({len(stamp.get('rows', []))} envs, {state}); see {kit.results / 'envs.md'}"


def test(kit: Kit, pin: Pin, *, fast: bool, order: str, ref: str | None) -> int:
    """Run the stages of `make test` (or `make test-fast`)."""
    if order not in ORDERS:
        raise KitError(f"ORDER={order!r} is not one of {', '.join(ORDERS)}")
    target = require_target(kit, pin, ref)
    stack = load_stack(kit.patches, pin.branch)
    one = branch_pr(target, pin, stack)  # on a PR's branch (`make apply PR=`): that PR and its dependencies
    require_on_base(target)
    digest = series_digest(kit)  # the series these results will be of
    python = ensure_env(kit)
    # A PR's run keeps its results apart: `make pr` reads only the whole stack's.
    results = kit.results if one is None else kit.results / f"branch-{one.name}"
    repo = target.repo
    scope = stack.prs if one is None else tuple(stack.closure(one.name))
    if one is not None:
        info(f"on {one.branch}: PR {one.name} with what it depends on ({', '.join(p.name for p in scope)})")
    base_ids = carried.base_node_ids(python, repo, target.base, kit.build / "nodeids")

    def stack_stage() -> Tally:
        touched = carried.touched_tests(repo, target.base, "HEAD")
        if fast:
            ids = carried.collect(python, repo, touched)
            args = sorted(ids - base_ids)
        else:
            ids = carried.collect(python, repo, ["tests"])
            args = ordered_args(order, sorted(ids - base_ids), sorted(ids & base_ids))
        xml = results / "flowjax.xml"
        tally = run_pytest(python, ["-q", *args], repo, xml, log=log("flowjax"))
        new, upstream = carried.split(read_cases(xml), base_ids)
        mine, rest = sum(c.seconds for c in new), sum(c.seconds for c in upstream)
        info(f"  the series' own tests: {len(new)} cases, {mine:.1f}s")
        if rest:
            info(
                f"  upstream's tests in the same session: {len(upstream)} cases, {rest:.1f}s "
                f"(the series' = {100 * mine / rest:.1f}% of upstream's time; target <= 5%)"
            )
        return tally

    names = {pr.name for pr in scope}
    sources = tuple(src for src in pin.sources if src.pr is None or src.pr in names)
    workers = 1 if fast else STAGE_WORKERS

    def log(name: str) -> Path | None:
        """Side by side, pytest's output goes to results/<name>.log (the stage lines say how it went)."""
        return results / f"{name}.log" if workers > 1 else None

    stages = [Stage("kit tests", lambda: kit_tests(kit, python, fast=fast, log=log("kit")))]
    for pr in [] if fast or one is not None else stack.provable_alone():
        stages.append(
            Stage(f"PR {pr.name} alone", lambda pr=pr: prove_alone(kit, python, target, stack, pr, base_ids))
        )
    what = "the stack" if one is None else f"PR {one.name}"
    label = f"{what}: the series' own tests" if fast else f"{what} + upstream's suite ({order})"
    stages.append(Stage(label, stack_stage))
    if args := sentinel_args(kit, pin, repo):
        stages.append(
            Stage(
                "kit sentinels",
                lambda: run_pytest(
                    python, ["-q", *args], repo, results / "sentinels.xml", log=log("sentinels")
                ),
            )
        )
    for pr in scope:
        if pr.issue:
            stages.append(
                Stage(
                    f"issue reproducer ({pr.name})",
                    lambda pr=pr: reproducer_problems(python, target, stack, pr, kit),
                )
            )
    stages.append(Stage("docs doctest (sphinx)", lambda: docs.doctest(python, repo, results / "doctest")))
    if not fast:
        stages.append(
            Stage("docs html (new warnings)", lambda: docs.build(kit, python, repo, target.base, sources))
        )
    stages += [
        Stage("drift check", lambda: drift(kit, pin)),
        Stage(
            "mutation catalogue fits",
            lambda: mutate.catalogue_problems(repo) if one is None else "it mutates the whole stack",
        ),
        Stage("ruff (upstream config)", lambda: ruff_problems(python, repo, target.base)),
    ]
    info(f"base: {target.describe()} ({target.base})")
    code = run_stages(
        stages,
        results,
        [matrix_note(kit), f"proven on: {target.describe()}"],
        reference=label,
        workers=workers,
    )
    facts = {
        "upstream_suite": not fast,
        "order": order,
        "version": pin.version,
        "tree": git.tree(repo),
        "exit_code": code,
        "made": time.strftime("%Y-%m-%d %H:%M"),
        **target.facts(),
    }
    write_stamp(results / "stamp.json", kit, series=digest, **facts)
    if one is None:  # the ledger is of the whole stack's runs
        proofs.record(kit, digest, facts)
    return code
