"""`make test`: the stages that prove each PR and the stack, timed, closing on one summary line."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kit import carried, docs, gitutil, issue, mutate
from kit.apply import Target, resolve_target
from kit.config import Kit, Pin
from kit.env import ensure_env
from kit.log import KitError, info
from kit.sources import drift
from kit.stack import PR, Stack, load_stack
from kit.stamp import read_stamp, series_digest, write_stamp
from kit.tally import Tally, read_cases, read_junit


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
        raise KitError(f"pytest collected no tests in {cwd} ({' '.join(args)[:200]})")
    if not xml.is_file():
        raise KitError(f"pytest exited {code} without results in {cwd}")
    tally = read_junit(xml)
    if code != 0 and tally.failed == 0:
        raise KitError(f"pytest exited {code} in {cwd} with no failing test recorded")
    return tally


ORDERS = ("natural", "new-first", "upstream-first")


def ordered_args(order: str, new: list[str], upstream: list[str]) -> list[str]:
    """Pytest arguments for the whole suite in ``order``.

    ``natural`` is how upstream's CI runs it (``pytest tests``: the series' tests in their
    place); the other two run every case of the series before, or after, all of upstream's.
    """
    if order == "natural":
        return ["tests"]
    return [*new, *upstream] if order == "new-first" else [*upstream, *new]


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
    run: Callable[[], Tally | list[str] | str]


def run_stages(stages: list[Stage], results: Path, notes: list[str] = ()) -> int:
    """Run every stage, print a timing table and the closing summary line; return an exit code.

    A stage returns a Tally (tests), a list of problems (a check), or a string: a note that
    it was skipped, and why.
    """
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
                info(f"  {problem}")
            detail = "ok" if ok else f"{len(outcome)} problem(s)"
            check_failures += not ok
        rows.append((stage.name, detail, seconds))
        if not ok:
            failed_stages.append(stage.name)
        info(f"stage {stage.name}: {detail} in {seconds:.1f}s")
    info("stage timings:")
    for name, detail, seconds in rows:
        info(f"  {name:<40} {seconds:7.1f}s  {detail}")
    info(f"total {time.perf_counter() - start:.1f}s; results in {results}")
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


def kit_tests(kit: Kit, python: Path, *, fast: bool) -> Tally | str:
    """The kit's own tests; in the edit loop, skipped while the kit's code is unchanged since green."""
    stamp_path = kit.results / "kit-tests.json"
    digest = kit_code_digest(kit)
    if fast:
        stamp = read_stamp(stamp_path)
        if stamp and stamp.get("kit_code") == digest and stamp.get("failed") == 0:
            return "kit code unchanged since its last green run"
    tally = run_pytest(python, ["-q", "tests"], kit.root, kit.results / "kit.xml")
    stamp_path.write_text(json.dumps({"kit_code": digest, "failed": tally.failed}) + "\n")
    return tally


def apply_in(work: Path, patches: list, what: str) -> None:
    """`git am` ``patches`` in a scratch worktree, as the kit.

    Raises:
        KitError: Naming the patch that does not apply.
    """
    for patch in patches:
        proc = gitutil.run(work, "am", "--quiet", str(patch.path), env=gitutil.kit_env(), check=False)
        if proc.returncode:
            raise KitError(f"{what}: {patch.name} does not apply")


def prove_alone(kit: Kit, python: Path, target: Target, stack: Stack, pr: PR) -> Tally:
    """Apply ``pr`` with only its dependencies to the base, in a scratch worktree, and test it.

    Runs the tests the PR touches, and the doctests when it can change them.
    """
    with gitutil.scratch_worktree(target.repo, target.base) as work:
        apply_in(work, stack.patches_for(pr.name), f"PR {pr.name} alone on {target.base_name}")
        paths = carried.touched_tests(work, target.base, "HEAD")
        info(f"  PR {pr.name} ({', '.join(stack.names_in(pr.name))}): pytest {' '.join(paths)}")
        tally = run_pytest(python, ["-q", *paths], work, kit.results / f"pr-{pr.name}.xml")
        if carried.touches_docs(work, target.base, "HEAD"):
            tally += docs.doctest(python, work, kit.results / f"pr-{pr.name}-doctest", pythonpath=work)
    return tally


def reproducer_problems(python: Path, target: Target, stack: Stack, pr: PR, kit: Kit) -> list[str]:
    """The PR's issue reproducer, as written: it fails on the pin and passes with the PR."""
    text = issue.load(kit.root / str(pr.issue))
    with gitutil.scratch_worktree(target.repo, target.base) as work:
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


def sentinel_args(kit: Kit, pin: Pin, repo: Path) -> list[str]:
    """Pytest arguments that run the kit's sentinels against ``repo`` under its pytest config."""
    if not pin.sentinels:
        return []
    return [f"--rootdir={repo}", "-c", str(repo / "pyproject.toml"), str(kit.root / pin.sentinels)]


def series_tests(
    kit: Kit, pin: Pin, python: Path, repo: Path, base: str, xml: Path, env: dict[str, str] | None = None
) -> Tally:
    """The series' own test cases in ``repo`` (new node ids since ``base``), then the sentinels."""
    base_ids = carried.base_node_ids(python, repo, base, kit.build / "nodeids")
    ids = carried.collect(python, repo, carried.touched_tests(repo, base, "HEAD"), env)
    tally = run_pytest(python, ["-q", *sorted(ids - base_ids)], repo, xml, env)
    sentinels = xml.with_name(f"{xml.stem}-sentinels.xml")
    sentinels.unlink(missing_ok=True)
    if args := sentinel_args(kit, pin, repo):
        tally += run_pytest(python, ["-q", *args], repo, sentinels, env)
    return tally


def require_stack_branch(target: Target, pin: Pin) -> None:
    """The whole-stack stages run on the series branch, not on one PR's branch.

    Raises:
        KitError: If the checkout is on another branch.
    """
    current = gitutil.current_branch(target.repo)
    if current != pin.branch:
        raise KitError(
            f"{target.repo} is on {current or 'a detached HEAD'}, not the stack branch {pin.branch}: "
            "run `make apply` to go back to the whole stack"
        )


def matrix_note(kit: Kit) -> str:
    """One line on the environment matrix (`make envs`): missing, stale, or current."""
    stamp = read_stamp(kit.results / "envs.json")
    if stamp is None:
        return "env matrix: not run; `make envs` proves the stack in upstream's CI environments"
    if stamp.get("series") != series_digest(kit):
        return "env matrix: STALE (made for another version of the series); run `make envs`"
    from kit.envs import fault  # here: envs imports this module

    rows = stamp.get("rows", [])
    bad = [row["env"] for row in rows if fault(row)]
    state = f"the stack is at fault in {', '.join(bad)}" if bad else "no env where the stack is at fault"
    return f"env matrix: current ({len(stamp.get('rows', []))} envs, {state}); see {kit.results / 'envs.md'}"


def test(kit: Kit, pin: Pin, *, fast: bool, order: str, tag: str | None) -> int:
    """Run the stages of `make test` (or `make test-fast`)."""
    if order not in ORDERS:
        raise KitError(f"ORDER={order!r} is not one of {', '.join(ORDERS)}")
    target = resolve_target(kit, pin, tag or pin.tag)
    if target is None:
        raise KitError(f"no checkout at {kit.checkout}; run `make apply` first")
    require_stack_branch(target, pin)
    stack = load_stack(kit.patches, pin.branch)
    digest = series_digest(kit)  # the series these results will be of
    python = ensure_env(kit)
    results = kit.results
    repo = target.repo
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
        tally = run_pytest(python, ["-q", *args], repo, xml)
        new, upstream = carried.split(read_cases(xml), base_ids)
        mine, rest = sum(c.seconds for c in new), sum(c.seconds for c in upstream)
        info(f"  the series' own tests: {len(new)} cases, {mine:.1f}s")
        if rest:
            info(
                f"  upstream's tests in the same session: {len(upstream)} cases, {rest:.1f}s "
                f"(the series' = {100 * mine / rest:.1f}% of upstream's time; target <= 5%)"
            )
        return tally

    stages = [Stage("kit tests", lambda: kit_tests(kit, python, fast=fast))]
    for pr in [] if fast else stack.provable_alone():
        stages.append(Stage(f"PR {pr.name} alone", lambda pr=pr: prove_alone(kit, python, target, stack, pr)))
    label = "the stack: the series' own tests" if fast else f"the stack + upstream's suite ({order})"
    stages.append(Stage(label, stack_stage))
    if args := sentinel_args(kit, pin, repo):
        stages.append(
            Stage("kit sentinels", lambda: run_pytest(python, ["-q", *args], repo, results / "sentinels.xml"))
        )
    for pr in stack.prs:
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
            Stage("docs html (new warnings)", lambda: docs.build(kit, python, repo, target.base, pin.sources))
        )
    stages += [
        Stage("drift check", lambda: drift(kit, pin)),
        Stage("mutation catalogue fits", lambda: mutate.catalogue_problems(repo)),
        Stage("ruff (upstream config)", lambda: ruff_problems(python, repo, target.base)),
    ]
    code = run_stages(stages, results, [matrix_note(kit)])
    write_stamp(
        results / "stamp.json",
        kit,
        series=digest,
        upstream_suite=not fast,
        order=order,
        version=pin.version,
        tree=gitutil.out(repo, "rev-parse", "HEAD^{tree}"),
        exit_code=code,
    )
    return code
