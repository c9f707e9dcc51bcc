"""`make test`: the stages that prove each PR and the stack, timed, closing on one summary line."""

from __future__ import annotations

import time
from pathlib import Path

from kit.checkout.target import Target, branch_pr, require_on_base, require_target
from kit.envs.venv import ensure_env
from kit.evidence import ledger
from kit.evidence.current import envs_note
from kit.evidence.stamps import series_digest, write_stamp
from kit.git import run as git
from kit.git.patch import commit_patches
from kit.git.worktree import scratch_worktree
from kit.log import KitError, info
from kit.mutation import report
from kit.options import Options
from kit.paths import Kit
from kit.proof import docs, reproducer, selection
from kit.proof.kit_tests import kit_tests
from kit.proof.pytest import ORDERS, ordered_args, run_pytest, sentinel_args
from kit.proof.ruff import ruff_problems
from kit.proof.stages import Stage, run_stages
from kit.proof.tally import Tally, read_cases
from kit.series.drift import drift
from kit.series.pin import Pin
from kit.series.stack import PR, Stack, load_stack

# `make test` runs its stages on this many workers (one per core of a 2-core machine): the
# stack stage on one, every other stage in order on the other.
STAGE_WORKERS = 2


def prove_alone(kit: Kit, python: Path, target: Target, stack: Stack, pr: PR, base_ids: set[str]) -> Tally:
    """Apply ``pr`` with only its dependencies to the base, in a scratch worktree, and test it.

    Runs the test ids the PR adds or changes and upstream's tests of the library modules it
    edits (`selection.proof_args`); the doctests when it edits docs/ or a docstring example.
    The stack stage runs the whole suite on top of every PR. Pytest's output goes to
    ``results/pr-<name>.log``, so that two proofs can run at once.
    """
    with scratch_worktree(target.repo, target.base) as work:
        commit_patches(
            work, [p.path for p in stack.patches_for(pr.name)], f"PR {pr.name} alone on {target.base_name}"
        )
        args = selection.proof_args(python, work, target.base, base_ids)
        files = sorted({a.split("::")[0] for a in args})
        log = kit.results / f"pr-{pr.name}.log"
        info(
            f"  PR {pr.name} ({', '.join(stack.names_in(pr.name))}): {len(args)} pytest args in {', '.join(files)}"
        )
        t0 = time.perf_counter()
        tally = run_pytest(python, ["-q", *args], work, kit.results / f"pr-{pr.name}.xml", log=log)
        if selection.touches_doctests(work, target.base, "HEAD"):
            tally += docs.doctest(python, work, kit.results / f"pr-{pr.name}-doctest", pythonpath=work)
        info(
            f"  PR {pr.name}: {tally.passed} passed, {tally.failed} failed in "
            f"{time.perf_counter() - t0:.1f}s (pytest output: {log})"
        )
    return tally


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
    base_ids = selection.base_node_ids(python, repo, target.base, kit.build / "nodeids")

    def stack_stage() -> Tally:
        touched = selection.touched_tests(repo, target.base, "HEAD")
        if fast:
            ids = selection.collect(python, repo, touched)
            args = sorted(ids - base_ids)
        else:
            ids = selection.collect(python, repo, ["tests"])
            args = ordered_args(order, sorted(ids - base_ids), sorted(ids & base_ids))
        xml = results / "flowjax.xml"
        tally = run_pytest(python, ["-q", *args], repo, xml, log=log("flowjax"))
        new, upstream = selection.split(read_cases(xml), base_ids)
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
                    lambda pr=pr: reproducer.stage(kit, python, target, stack, pr),
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
            lambda: report.catalogue_problems(repo) if one is None else "it mutates the whole stack",
        ),
        Stage("ruff (upstream config)", lambda: ruff_problems(python, repo, target.base)),
    ]
    info(f"base: {target.describe()} ({target.base})")
    code = run_stages(
        stages,
        results,
        [envs_note(kit), f"proven on: {target.describe()}"],
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
        ledger.record(kit, digest, facts)
    return code


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make test` (``ORDER=``)."""
    return test(kit, pin, fast=False, order=opts.order, ref=opts.upstream_ref)


def main_fast(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make test-fast`: the edit loop."""
    return test(kit, pin, fast=True, order=opts.order, ref=opts.upstream_ref)
