"""`make apply`: bring a checkout to base + series, idempotently and without losing work."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kit.checkout import state
from kit.checkout.sdist import backup_name, create_from_sdist
from kit.checkout.target import (
    Target,
    commits_above,
    force_effect,
    foreign_commits,
    kind,
    not_series_error,
    require_clean,
    resolve_target,
)
from kit.git import run as git
from kit.git.index import scratch_index
from kit.git.patch import am
from kit.log import KitError, info, step, warn
from kit.ops import onto
from kit.paths import Kit
from kit.series.drift import drift
from kit.series.patch import Patch
from kit.series.pin import Pin
from kit.series.stack import Stack, load_stack


def _enter_branch(target: Target) -> None:
    """Check out the target's branch (the work tree is clean); create it from the base if new."""
    repo, branch = target.repo, target.branch
    current = git.current_branch(repo)
    if current == branch:
        return
    if git.rev(repo, f"refs/heads/{branch}") is None:
        git.run(repo, "switch", "--quiet", "--create", branch, target.base)
        info(f"created branch {branch} from {target.base_name} (you were on {current or 'a detached HEAD'})")
    else:
        git.run(repo, "switch", "--quiet", branch)
        info(f"switched to {branch} (you were on {current or 'a detached HEAD'})")
    if target.mode == "clone":
        state.mark(repo, "clone", target.base_name)


def _apply_one(target: Target, patch: Patch, last_good: str) -> None:
    if failure := am(target.repo, patch.path):
        raise KitError(f"{patch.name} does not apply: {failure.detail}; checkout left at {last_good}")


def force_aside(kit: Kit, branch: str) -> None:
    """Move ``branch`` (or an sdist checkout) out of the way without deleting anything."""
    target = kind(kit)
    if target is None:
        return
    if target == "sdist":
        aside = Path(backup_name(kit.checkout))
        kit.checkout.replace(aside)
        info(f"FORCE: moved the old checkout to {aside}")
        return
    repo = kit.checkout
    if git.dirty(repo):
        raise KitError(
            f"{repo} has uncommitted changes; commit or stash them first (FORCE keeps branches, not edits)"
        )
    if git.rev(repo, f"refs/heads/{branch}") is not None:
        backup = backup_name(f"backup/{branch}")
        if git.current_branch(repo) == branch:
            git.run(repo, "switch", "--quiet", "--detach")
        git.run(repo, "branch", "-m", branch, backup)
        info(f"FORCE: renamed branch {branch} to {backup}")


def _restart(target: Target, head: str) -> None:
    """Point the branch back at the base, keeping the old tip at ``refs/flowjax-kit/previous/<branch>``."""
    state.keep_previous(
        target.repo, target.branch, head, f"apply: the tip before re-applying on {target.base_name}"
    )
    git.run(target.repo, "switch", "--quiet", "--force-create", target.branch, target.base)


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
    with scratch_index(target.repo, target.base) as index:
        result, patch, file = onto.apply_patches(index, patches)
    if result == onto.CONFLICT and patch is not None:
        owner = stack.pr_of(patch.name).name
        raise onto.conflict_error(
            onto.Outcome(owner, result, patch.name, file), target.base_name, target.repo
        )


def unexported_note(target: Target, branches: dict[str, list[Patch]]) -> str | None:
    """A line when the branch being left (the stack's or a PR's) holds commits not in patches/."""
    repo = target.repo
    current = git.current_branch(repo)
    if current is None or current == target.branch or current not in branches:
        return None
    if not foreign_commits(target, branches[current], "HEAD"):
        return None
    return (
        f"{current} holds commits that are not in patches/ (they stay on it): "
        f"`git -C {repo} switch {current}` then `make refresh` exports them"
    )


def warn_drift(kit: Kit, pin: Pin) -> None:
    """One warning line when a source in the kit differs from what its patch adds."""
    try:
        problems = drift(kit, pin)
    except KitError as e:
        problems = [str(e)]
    if problems:
        more = f" (and {len(problems) - 1} more; `make drift` lists them)" if len(problems) > 1 else ""
        warn(f"{problems[0]}{more}; the checkout gets the patch, not the source")


def apply(kit: Kit, pin: Pin, *, ref: str | None = None, force: bool = False, pr: str | None = None) -> None:
    """Apply the stack (or PR ``pr`` and what it depends on) to `kit.checkout`.

    The whole stack goes on the series branch; one PR goes on that PR's branch. The
    checkout is created from the sdist when absent. In a user's clone the base is ``ref``
    (a tag, a branch such as ``main``, a commit); each PR is first tried alone onto it.
    Every refusal comes before anything of the user's moves: the target branch is judged
    where it is, before it is checked out.

    Raises:
        KitError: On bad input, local work in the way, or a patch that does not apply.
    """
    stack = load_stack(kit.patches, pin.branch)
    patches = stack.patches if pr is None else stack.patches_for(pr)
    branch = pin.branch if pr is None else stack.get(pr).branch
    kind(kit)  # a FLOWJAX_DIR that does not exist is refused before anything happens
    warn_drift(kit, pin)
    if force:
        force_aside(kit, branch)
    target = resolve_target(kit, pin, ref)
    if target is None:
        create_from_sdist(kit, pin)
        target = resolve_target(kit, pin, ref)
        assert target is not None
    target = dataclasses.replace(target, branch=branch)
    repo = target.repo
    branches = {pin.branch: stack.patches} | (
        {one.branch: stack.patches_for(one.name) for one in stack.prs} if len(stack.prs) > 1 else {}
    )
    here = git.current_branch(repo) in branches
    require_clean(
        repo,
        ("commit them and run `make refresh`, or stash them" if here else "commit or stash them")
        + "; `make apply` will not overwrite them",
    )
    if target.mode == "clone":
        preflight(target, stack, patches, pr)
    tip = git.rev(repo, f"refs/heads/{branch}")
    ours = tip is not None and tip == state.applied(repo, branch)
    restart, start = None, 0
    if tip is None:
        pass
    elif git.run(repo, "merge-base", "--is-ancestor", target.base, tip, check=False).returncode:
        if not ours:
            raise KitError(
                f"{repo}: branch {branch} does not start from {target.base_name} and holds commits "
                f"the kit did not write: rename it (`git -C {repo} branch -m {branch} <new name>`), "
                f"or {force_effect(target)}"
            )
        restart = f"moving {branch} onto {target.describe()} (the old tip is {state.PREVIOUS}{branch})"
    elif foreign := foreign_commits(target, patches, tip):
        if not ours:
            raise not_series_error(target, foreign)
        restart = f"the series changed since the last apply; re-applying it on {target.base_name}"
    else:
        start = len(commits_above(repo, target.base, tip))
    note = unexported_note(target, branches)
    _enter_branch(target)
    if note:
        warn(note)
    if restart:
        info(restart)
        _restart(target, tip or "HEAD")
    what = f"PR {pr} ({len(patches)} patch(es) with its dependencies)" if pr else f"{len(patches)} patch(es)"
    if target.mode == "clone":
        state.record_base(repo, target.base_name)
    if start == len(patches):
        info(f"already applied: {what} on {target.branch}; nothing changed")
        state.record_applied(repo, branch, git.out(repo, "rev-parse", branch), f"apply: {what}")
        return
    last_good = patches[start - 1].name if start else target.base_name
    with step(f"apply {len(patches) - start} patch(es) to {repo}"):
        for patch in patches[start:]:
            _apply_one(target, patch, last_good)
            info(f"  applied {patch.name}")
            last_good = patch.name
    state.record_applied(
        repo, branch, git.out(repo, "rev-parse", branch), f"apply: {what} on {target.base_name}"
    )
    nxt = (
        "`make test-fast` or `make test` proves it; `make refresh` exports a commit made here; "
        "`make apply` returns to the whole stack"
        if pr
        else "`make test`"
    )
    info(f"checkout {repo}, branch {target.branch}: {what} on {target.base_name}. Next: {nxt}")
