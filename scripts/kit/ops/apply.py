"""`make apply`: bring a checkout to base + series, idempotently and without losing work.

Plan, then execute: `plan_apply` makes every check (the series, the sdist's hash, local
edits, commits that are not the series, conflicts with the base) and returns a frozen
`ApplyPlan` without moving anything; `execute` is the only step that moves the checkout,
its branches or the kit's records. ``DRY_RUN=1`` prints the plan, one line a step, and stops.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from kit.checkout import state
from kit.checkout.sdist import backup_name, create_from_sdist, move_aside, verified_sdist
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
from kit.log import KitError, info, show_plan, step, warn
from kit.ops import onto
from kit.options import Options
from kit.paths import Kit
from kit.series.drift import drift
from kit.series.patch import Patch
from kit.series.pin import Pin
from kit.series.stack import Stack, load_stack


@dataclass(frozen=True)
class Aside:
    """``FORCE=1``: what is moved out of the way first; nothing is deleted.

    Attributes:
        checkout: The kit's sdist checkout, moved whole to ``to`` (else a clone's branch).
        name: The branch renamed (a clone), or the checkout's path.
        to: The backup path or branch name.
        detach: The branch is checked out: HEAD is detached before it is renamed.
    """

    checkout: bool
    name: str
    to: str
    detach: bool = False

    def line(self) -> str:
        if self.checkout:
            return f"FORCE: moved the old checkout to {self.to}"
        return f"FORCE: renamed branch {self.name} to {self.to}"

    def step(self) -> str:
        if self.checkout:
            return f"move the old checkout to {self.to}"
        return f"rename branch {self.name} to {self.to}"


@dataclass(frozen=True)
class ApplyPlan:
    """What `make apply` will do, every check made.

    Attributes:
        kit: The kit's paths (``kit.checkout`` is the repository).
        pin: The pin.
        mode: ``sdist`` (the kit's checkout) or ``clone``.
        branch: The branch the patches go on (the stack's, or one PR's).
        pr: The PR asked for (``PR=``), or None for the whole stack.
        patches: The patches that belong on the branch, in order.
        base_name: The base as named (``upstream/<version>``, ``v1.2.3``, ``main``).
        base: The base commit; None when the checkout is made from ``sdist`` first.
        aside: What ``FORCE=1`` moves out of the way first.
        sdist: The verified sdist to make the checkout from (None: it exists).
        current: The branch checked out when the patches go on (after ``aside``).
        new_branch: Whether ``branch`` is created from the base.
        note: A warning printed after switching (commits left on the branch being left).
        restart: Why the branch is rebuilt from the base (its old tip kept); None if it is not.
        old_tip: The tip kept when the branch is rebuilt.
        start: How many of ``patches`` the branch already holds.
    """

    kit: Kit
    pin: Pin
    mode: str
    branch: str
    pr: str | None
    patches: tuple[Patch, ...]
    base_name: str
    base: str | None
    aside: Aside | None = None
    sdist: Path | None = None
    current: str | None = None
    new_branch: bool = False
    note: str | None = None
    restart: str | None = None
    old_tip: str | None = None
    start: int = 0

    @property
    def what(self) -> str:
        n = len(self.patches)
        return f"PR {self.pr} ({n} patch(es) with its dependencies)" if self.pr else f"{n} patch(es)"

    def steps(self) -> list[str]:
        """One line per step that `execute` takes."""
        repo, branch = self.kit.checkout, self.branch
        lines = [self.aside.step()] if self.aside else []
        if self.sdist is not None:
            lines.append(f"make {repo} from {self.sdist.name}, its base commit tagged {self.base_name}")
        if self.current != branch:
            lines.append(
                f"create branch {branch} from {self.base_name}" if self.new_branch else f"switch to {branch}"
            )
        if self.restart:
            lines.append(f"{self.restart}: start {branch} again from {self.base_name}")
        lines += [f"apply {p.name}" for p in self.patches[self.start :]]
        if self.start == len(self.patches):
            lines.append(f"nothing to apply: {self.what} already on {branch}")
        lines.append(f"record {branch}'s tip as the kit's ({state.APPLIED}{branch})")
        return lines


def plan_apply(
    kit: Kit, pin: Pin, *, ref: str | None = None, force: bool = False, pr: str | None = None
) -> ApplyPlan:
    """Check everything `make apply` needs and say what it will do; nothing moves.

    The whole stack goes on the series branch; one PR goes on that PR's branch. The
    checkout is made from the sdist when absent (or, with ``force``, moved aside first). In a
    user's clone the base is ``ref`` (a tag, a branch such as ``main``, a commit); each PR is
    first tried alone onto it. The target branch is judged where it is, before it is checked out.

    Raises:
        KitError: On bad input, local work in the way, a sdist that does not verify, or a
            conflict with the base: the refusals, all of them before anything moves.
    """
    stack = load_stack(kit.patches, pin.branch)
    patches = tuple(stack.patches if pr is None else stack.patches_for(pr))
    branch = pin.branch if pr is None else stack.get(pr).branch
    mode = kind(kit)  # a FLOWJAX_DIR that does not exist is refused before anything happens
    warn_drift(kit, pin)
    aside = _aside(kit, mode, branch) if force else None
    if mode is None or (aside and aside.checkout):
        # A fresh checkout: made from the verified sdist, on the stack branch at the base.
        sdist = verified_sdist(kit, pin)
        current = pin.branch
        return ApplyPlan(
            kit, pin, "sdist", branch, pr, patches, pin.base_tag, None,
            aside=aside, sdist=sdist, current=current, new_branch=branch != current,
        )  # fmt: skip
    target = resolve_target(kit, pin, ref)
    assert target is not None
    target = dataclasses.replace(target, branch=branch)
    repo = target.repo
    branches = {pin.branch: stack.patches} | (
        {one.branch: stack.patches_for(one.name) for one in stack.prs} if len(stack.prs) > 1 else {}
    )
    current = git.current_branch(repo)
    require_clean(
        repo,
        (
            "commit them and run `make refresh`, or stash them"
            if current in branches
            else "commit or stash them"
        )
        + "; `make apply` will not overwrite them",
    )
    if target.mode == "clone":
        preflight(target, stack, list(patches), pr)
    if aside and aside.detach:
        current = None
    tip = None if aside else git.rev(repo, f"refs/heads/{branch}")
    ours = tip is not None and tip == state.applied(repo, branch)
    restart, start = None, 0
    if tip is None:
        pass
    elif not git.is_ancestor(repo, target.base, tip):
        if not ours:
            raise KitError(
                f"{repo}: branch {branch} does not start from {target.base_name} and holds commits "
                f"the kit did not write: rename it (`git -C {repo} branch -m {branch} <new name>`), "
                f"or {force_effect(target)}"
            )
        restart = f"moving {branch} onto {target.describe()} (the old tip is {state.PREVIOUS}{branch})"
    elif foreign := foreign_commits(target, list(patches), tip):
        if not ours:
            raise not_series_error(target, foreign)
        restart = f"the series changed since the last apply; re-applying it on {target.base_name}"
    else:
        start = len(commits_above(repo, target.base, tip))
    return ApplyPlan(
        kit, pin, target.mode, branch, pr, patches, target.base_name, target.base,
        aside=aside,
        current=current,
        new_branch=tip is None,
        note=unexported_note(target, branches, current),
        restart=restart,
        old_tip=tip if restart else None,
        start=start,
    )  # fmt: skip


def _aside(kit: Kit, mode: str | None, branch: str) -> Aside | None:
    """What ``FORCE=1`` moves out of the way: the kit's whole checkout, or a clone's branch.

    Raises:
        KitError: If a clone has uncommitted changes (FORCE keeps branches, not edits).
    """
    if mode is None:
        return None
    if mode == "sdist":
        return Aside(True, str(kit.checkout), backup_name(kit.checkout))
    repo = kit.checkout
    if git.dirty(repo):
        raise KitError(
            f"{repo} has uncommitted changes; commit or stash them first (FORCE keeps branches, not edits)"
        )
    if git.rev(repo, f"refs/heads/{branch}") is None:
        return None
    return Aside(False, branch, backup_name(f"backup/{branch}"), git.current_branch(repo) == branch)


def execute(plan: ApplyPlan) -> None:
    """Do what ``plan`` says: the one step of `make apply` that moves anything.

    Raises:
        KitError: If a patch does not apply (the checkout is left at the last one that did).
    """
    kit, repo, branch = plan.kit, plan.kit.checkout, plan.branch
    if plan.aside:
        if plan.aside.checkout:
            move_aside(repo, Path(plan.aside.to))
        else:
            if plan.aside.detach:
                git.run(repo, "switch", "--quiet", "--detach")
            git.run(repo, "branch", "-m", plan.aside.name, plan.aside.to)
        info(plan.aside.line())
    if plan.sdist is not None:
        create_from_sdist(kit, plan.pin, plan.sdist)
    base = plan.base or git.out(repo, "rev-parse", f"{plan.base_name}^{{commit}}")
    if plan.current != branch:
        was = plan.current or "a detached HEAD"
        if plan.new_branch:
            git.run(repo, "switch", "--quiet", "--create", branch, base)
            info(f"created branch {branch} from {plan.base_name} (you were on {was})")
        else:
            git.run(repo, "switch", "--quiet", branch)
            info(f"switched to {branch} (you were on {was})")
        if plan.mode == "clone":
            state.mark(repo, "clone", plan.base_name)
    if plan.note:
        warn(plan.note)
    if plan.restart:
        info(plan.restart)
        reason = f"apply: the tip before re-applying on {plan.base_name}"
        state.keep_previous(repo, branch, plan.old_tip or git.out(repo, "rev-parse", "HEAD"), reason)
        git.run(repo, "switch", "--quiet", "--force-create", branch, base)
    if plan.mode == "clone":
        state.record_base(repo, plan.base_name)
    patches = plan.patches
    if plan.start == len(patches):
        info(f"already applied: {plan.what} on {branch}; nothing changed")
        state.record_applied(repo, branch, git.out(repo, "rev-parse", branch), f"apply: {plan.what}")
        return
    last_good = patches[plan.start - 1].name if plan.start else plan.base_name
    with step(f"apply {len(patches) - plan.start} patch(es) to {repo}"):
        for patch in patches[plan.start :]:
            if failure := am(repo, patch.path):
                raise KitError(f"{patch.name} does not apply: {failure.detail}; checkout left at {last_good}")
            info(f"  applied {patch.name}")
            last_good = patch.name
    tip = git.out(repo, "rev-parse", branch)
    state.record_applied(repo, branch, tip, f"apply: {plan.what} on {plan.base_name}")
    nxt = (
        "`make test-fast` or `make test` proves it; `make refresh` exports a commit made here; "
        "`make apply` returns to the whole stack"
        if plan.pr
        else "`make test`"
    )
    info(f"checkout {repo}, branch {branch}: {plan.what} on {plan.base_name}. Next: {nxt}")


def apply(kit: Kit, pin: Pin, *, ref: str | None = None, force: bool = False, pr: str | None = None) -> None:
    """Plan and execute `make apply` (for `make bump` and `make matrix`)."""
    execute(plan_apply(kit, pin, ref=ref, force=force, pr=pr))


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make apply` (``PR=``, ``FORCE=1``, ``UPSTREAM_REF=``, ``DRY_RUN=1``)."""
    plan = plan_apply(kit, pin, ref=opts.upstream_ref, force=opts.force, pr=opts.pr)
    if opts.dry_run:
        show_plan(plan.steps())
    else:
        execute(plan)
    return 0


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


def unexported_note(target: Target, branches: dict[str, list[Patch]], current: str | None) -> str | None:
    """A line when the branch being left (``current``: the stack's or a PR's) holds commits not in patches/."""
    repo = target.repo
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
