"""Command-line interface: one subcommand per Makefile target."""

from __future__ import annotations

import argparse
import sys

from kit.checkout import state
from kit.checkout.target import (
    Target,
    branch_pr,
    commits_above,
    require_clean,
    require_on_base,
    require_stack_branch,
    require_target,
)
from kit.envs import ci, venv
from kit.git import run as git
from kit.log import KitError, info
from kit.mutation import report
from kit.ops import apply, bump
from kit.ops.patches import regenerate
from kit.ops.refresh import refresh
from kit.options import Options, parse
from kit.paths import Kit, load_kit
from kit.pr import make
from kit.proof import bench, docs, test
from kit.releases import matrix
from kit.series.drift import drift
from kit.series.pin import Pin, load_pin
from kit.series.stack import load_stack
from kit.streams import flake, streams


def _require_checkout(kit: Kit, pin: Pin, opts: Options) -> Target:
    return require_target(kit, pin, opts.upstream_ref)


def cmd_apply(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    apply.apply(kit, pin, ref=opts.upstream_ref, force=opts.force, pr=opts.pr)
    return 0


def cmd_drift(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    problems = drift(kit, pin)
    for problem in problems:
        print(f"kit: drift: {problem}", file=sys.stderr)
    if not problems:
        info(f"no drift: {len(pin.sources)} source(s) match the series")
    return 1 if problems else 0


def cmd_patches(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    target = _require_checkout(kit, pin, opts)
    regenerate(kit, pin, target.base)
    info("patches rebuilt from the sources; `make apply` puts them on the checkout")
    return 0


def cmd_refresh(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    target = _require_checkout(kit, pin, opts)
    require_clean(target.repo, "commit them first; refresh exports commits")
    one = branch_pr(target, pin, load_stack(kit.patches, pin.branch))
    branch = one.branch if one else pin.branch
    require_on_base(target)
    commits = len(commits_above(target.repo, target.base, "HEAD"))
    done = refresh(kit, pin, target.repo, target.base, one.name if one else None)
    state.record_applied(target.repo, branch, git.out(target.repo, "rev-parse", branch), "refresh: exported")
    if target.mode == "clone":
        state.record_base(target.repo, target.base_name)
    stack = load_stack(kit.patches, pin.branch)
    touched = [pr.name for pr in stack.prs if any(p.name in done.changed for p in pr.patches)]
    info(
        f"exported {commits} commit(s) of {branch} above {target.base_name} to {kit.patches}: "
        + (f"changed PR(s) {', '.join(touched)}" if touched else "no patch changed")
        + (f"; unchanged: {', '.join(n for n in stack.names if n not in touched)}" if touched else "")
    )
    if done.problems:
        first = done.problems[0]
        raise KitError(
            f"{'; '.join(p.line for p in done.problems)}. Its patches are kept as they were: "
            f"`make apply PR={first.pr}` stops before {first.patch}; there `git -C {target.repo} am -3 "
            f"{kit.patches / first.patch}`, resolve, `git am --continue`, then `make refresh`"
        )
    if one is not None:
        above = [p.name for p in stack.prs if p.name != one.name and one.name in stack.names_in(p.name)]
        on_top = f"re-cut on top of it: {', '.join(above)}" if above else "no PR depends on it"
        info(f"{on_top}; `make apply` returns to the whole stack")
    return 0


def cmd_env(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    python = venv.ensure_env(kit)
    info(f"python: {python} ({venv.tool_seconds():.3f}s in uv)")
    return 0


def cmd_bench(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    return bench.bench(kit)


def cmd_docs(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    target = _require_checkout(kit, pin, opts)
    problems = docs.build(kit, venv.ensure_env(kit), target.repo, target.base, pin.sources)
    for problem in problems:
        print(f"kit: docs: {problem}", file=sys.stderr)
    if problems:
        return 1
    info(f"docs built into {kit.build / 'docs' / 'html'}: no new warnings; new sections present")
    return 0


def cmd_matrix(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    versions = list(opts.versions) or matrix.default_versions(kit, pin)
    info(f"matrix over FlowJAX {', '.join(versions)}")
    return matrix.matrix(kit, pin, versions, venv.ensure_env(kit))


def cmd_envs(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    names = list(opts.envs) or list(ci.ENVS)
    return ci.matrix(kit, pin, _require_checkout(kit, pin, opts), names, opts)


def cmd_streams(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    return streams.streams(kit, pin, _require_checkout(kit, pin, opts), venv.ensure_env(kit))


def cmd_flake(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    count = opts.stream_count
    target = _require_checkout(kit, pin, opts)
    budget = opts.flake_budget
    return flake.flake(kit, pin, target, venv.ensure_env(kit), count, opts.cases, budget)


def cmd_bump(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    version = opts.version
    if not version:
        raise KitError("name the release to pin: make bump VERSION=X")
    return bump.bump(kit, pin, version)


def cmd_pr(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    make.pr(kit, pin, _require_checkout(kit, pin, opts), opts)
    return 0


def cmd_mutation_report(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    target = _require_checkout(kit, pin, opts)
    require_stack_branch(target, pin)
    return report.report(
        kit,
        pin,
        venv.ensure_env(kit),
        target.repo,
        target.base,
        full=opts.upstream_full,
        names=list(opts.mutations),
    )


def cmd_test(kit: Kit, pin: Pin, opts: Options, args: argparse.Namespace) -> int:
    return test.test(
        kit,
        pin,
        fast=args.fast,
        order=opts.order,
        ref=opts.upstream_ref,
    )


COMMANDS = {
    "apply": (cmd_apply, "fetch and verify the pinned sdist, make the checkout, apply the series"),
    "drift": (cmd_drift, "check the patches add exactly flowjax_tests/ and docs_additions/"),
    "patches": (cmd_patches, "rebuild the patches from flowjax_tests/ and docs_additions/"),
    "refresh": (cmd_refresh, "export the checkout's commits to patches/ and the sources"),
    "env": (cmd_env, "create or update .venv from requirements.lock"),
    "bench": (cmd_bench, "time the kit's tests, and a fresh clone's `make env` against uv alone"),
    "test": (cmd_test, "run every stage that proves the patches"),
    "matrix": (cmd_matrix, "apply the series to several releases (VERSIONS=) and run the new tests"),
    "envs": (cmd_envs, "prove the stack in upstream's CI environments; write build/results/envs.md"),
    "streams": (
        cmd_streams,
        "the series' tests under rbg, unsafe_rbg, threefry flipped; build/results/streams.md",
    ),
    "flake": (
        cmd_flake,
        "each new test case's failures over STREAMS=N fresh random streams; build/results/flake.md",
    ),
    "bump": (cmd_bump, "move the pin to VERSION=X, re-apply the series and report what broke"),
    "pr": (cmd_pr, "write build/pr/<pr>/ for every PR: branch, patches, PR_BODY.md (and ISSUE.md)"),
    "mutation-report": (
        cmd_mutation_report,
        "run the mutation catalogue; write build/results/mutation-report.md",
    ),
    "docs": (cmd_docs, "build the patched HTML docs; fail on new warnings or a missing section"),
}


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; an expected failure becomes one `kit: error:` line and exit 1."""
    parser = argparse.ArgumentParser(prog="kit", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        if name == "test":
            p.add_argument("--fast", action="store_true", help="skip upstream's own suite")
    args = parser.parse_args(argv)
    try:
        opts = parse()
        kit = load_kit(opts)
        return COMMANDS[args.command][0](kit, load_pin(kit.pin_file), opts, args)
    except (KitError, OSError) as e:
        print(f"kit: error: {e}", file=sys.stderr)
        return 1
