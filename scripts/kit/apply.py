"""`make apply`: bring a checkout to base + series, idempotently and without losing work."""

from __future__ import annotations

import dataclasses
import re
import time
from pathlib import Path

from kit import gitutil, onto, state
from kit.checkout import create_from_sdist, mark
from kit.config import Kit, Pin
from kit.log import KitError, info, step
from kit.series import Patch
from kit.stack import Stack, load_stack
from kit.state import Target, commits_above, last_applied, record_applied

PREVIOUS_REF = "refs/flowjax-kit/previous"


def _enter_branch(target: Target) -> None:
    """Check out the target's branch (the work tree is clean); create it from the base if new."""
    repo, branch = target.repo, target.branch
    current = gitutil.current_branch(repo)
    if current == branch:
        return
    if gitutil.rev(repo, f"refs/heads/{branch}") is None:
        gitutil.run(repo, "switch", "--quiet", "--create", branch, target.base)
        info(f"created branch {branch} from {target.base_name} (you were on {current or 'a detached HEAD'})")
    else:
        gitutil.run(repo, "switch", "--quiet", branch)
        info(f"switched to {branch} (you were on {current or 'a detached HEAD'})")
    if target.mode == "clone":
        mark(repo, "clone", target.base_name)


def _apply_one(target: Target, patch: Patch, last_good: str) -> None:
    proc = gitutil.run(
        target.repo,
        "am",
        "--quiet",
        "--3way",
        "--committer-date-is-author-date",
        "--whitespace=nowarn",
        str(patch.path),
        env=gitutil.kit_env(),
        check=False,
    )
    if proc.returncode == 0:
        return
    text = proc.stdout + proc.stderr
    gitutil.run(target.repo, "am", "--abort", check=False)
    # `git am -3` names no file when the merge fails: ask a scratch index which one it is.
    with onto.scratch_index(target.repo, "HEAD") as env:
        _, _, file = onto.apply_patches(target.repo, env, [patch])
    where = re.search(r"error: (\S+: (does not exist in index|already exists in index))", text)
    detail = where.group(1) if where else f"patch failed: {file}" if file else None
    detail = detail or (text.strip().splitlines() or ["git am failed"])[0]
    raise KitError(f"{patch.name} does not apply: {detail}; checkout left at {last_good}")


def _backup_name(base: Path | str) -> str:
    return f"{base}-backup-{time.strftime('%Y%m%d-%H%M%S')}"


def force_aside(kit: Kit, branch: str) -> None:
    """Move ``branch`` (or an sdist checkout) out of the way without deleting anything."""
    target = state.kind(kit)
    if target is None:
        return
    if target == "sdist":
        aside = Path(_backup_name(kit.checkout))
        kit.checkout.replace(aside)
        info(f"FORCE: moved the old checkout to {aside}")
        return
    repo = kit.checkout
    if gitutil.dirty(repo):
        raise KitError(
            f"{repo} has uncommitted changes; commit or stash them first (FORCE keeps branches, not edits)"
        )
    if gitutil.rev(repo, f"refs/heads/{branch}") is not None:
        backup = _backup_name(f"backup/{branch}")
        if gitutil.current_branch(repo) == branch:
            gitutil.run(repo, "switch", "--quiet", "--detach")
        gitutil.run(repo, "branch", "-m", branch, backup)
        info(f"FORCE: renamed branch {branch} to {backup}")


def _restart(target: Target, head: str) -> None:
    """Point the branch back at the base, keeping the old tip under PREVIOUS_REF."""
    gitutil.run(target.repo, "update-ref", PREVIOUS_REF, head)
    gitutil.run(target.repo, "switch", "--quiet", "--force-create", target.branch, target.base)


def preflight(target: Target, stack: Stack, patches: list[Patch], pr: str | None) -> None:
    """Report how each PR goes onto the base alone, then check the whole series, in scratch indexes.

    Raises:
        KitError: On the first conflict, naming the PR, the patch and the file; nothing is touched.
    """
    shown = stack.closure(pr) if pr else stack.prs
    outcomes = [
        o for o in onto.check_each(target.repo, target.base, stack) if o.pr in {p.name for p in shown}
    ]
    for outcome in outcomes:
        info(outcome.line(target.base_name))
    for outcome in outcomes:
        if outcome.result == onto.CONFLICT:
            raise onto.conflict_error(outcome, target.base_name, target.repo)
    with onto.scratch_index(target.repo, target.base) as env:
        result, patch, file = onto.apply_patches(target.repo, env, patches)
    if result == onto.CONFLICT and patch is not None:
        owner = stack.pr_of(patch.name).name
        raise onto.conflict_error(
            onto.Outcome(owner, result, patch.name, file), target.base_name, target.repo
        )


def apply(kit: Kit, pin: Pin, *, ref: str | None = None, force: bool = False, pr: str | None = None) -> None:
    """Apply the stack (or PR ``pr`` and what it depends on) to `kit.checkout`.

    The whole stack goes on the series branch; one PR goes on that PR's branch. The
    checkout is created from the sdist when absent. In a user's clone the base is ``ref``
    (a tag, a branch such as ``main``, a commit); each PR is first tried alone onto it, and a
    conflict stops before anything of the user's moves.

    Raises:
        KitError: On bad input, local work in the way, or a patch that does not apply.
    """
    stack = load_stack(kit.patches, pin.branch)
    patches = stack.patches if pr is None else stack.patches_for(pr)
    branch = pin.branch if pr is None else stack.get(pr).branch
    if force:
        force_aside(kit, branch)
    target = state.resolve_target(kit, pin, ref)
    if target is None:
        create_from_sdist(kit, pin)
        target = state.resolve_target(kit, pin, ref)
        assert target is not None
    target = dataclasses.replace(target, branch=branch)
    state.require_clean(
        target.repo, "commit them and run `make refresh`, or stash them; `make apply` will not overwrite them"
    )
    if target.mode == "clone":
        preflight(target, stack, patches, pr)
    _enter_branch(target)
    repo = target.repo
    head = gitutil.out(repo, "rev-parse", "HEAD")
    ours = head == last_applied(repo, branch)
    if gitutil.run(repo, "merge-base", "--is-ancestor", target.base, head, check=False).returncode:
        if not ours:
            raise KitError(
                f"{repo}: branch {target.branch} does not start from {target.base_name} and holds commits "
                "the kit did not write: `make refresh` them first, or `make apply FORCE=1` "
                "(the old branch is kept as a backup)"
            )
        info(f"moving {target.branch} onto {target.describe()} (the old tip is {PREVIOUS_REF})")
        _restart(target, head)
        start = 0
    else:
        foreign = state.foreign_commits(target, patches, head)
        if not foreign:
            start = len(commits_above(repo, target.base, head))
        elif ours:
            info(f"the series changed since the last apply; re-applying it on {target.base_name}")
            _restart(target, head)
            start = 0
        else:
            raise state.not_series_error(target, foreign)
    what = f"PR {pr} ({len(patches)} patch(es) with its dependencies)" if pr else f"{len(patches)} patch(es)"
    if target.mode == "clone":
        state.record_base(repo, target.base_name)
    if start == len(patches):
        info(f"already applied: {what} on {target.branch}; nothing changed")
        record_applied(repo, branch)
        return
    last_good = patches[start - 1].name if start else target.base_name
    with step(f"apply {len(patches) - start} patch(es) to {repo}"):
        for patch in patches[start:]:
            _apply_one(target, patch, last_good)
            info(f"  applied {patch.name}")
            last_good = patch.name
    record_applied(repo, branch)
    info(f"checkout {repo}, branch {target.branch}: {what} on {target.base_name}. Next: `make test`")
