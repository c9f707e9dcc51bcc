"""`make apply`: bring a checkout to base + series, idempotently and without losing work."""

from __future__ import annotations

import dataclasses
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from kit import gitutil
from kit.checkout import create_from_sdist, mark
from kit.config import Kit, Pin
from kit.log import KitError, info, step, warn
from kit.series import Patch
from kit.sources import drift
from kit.stack import load_stack

PREVIOUS_REF = "refs/flowjax-kit/previous"


def applied_key(branch: str) -> str:
    """Config key holding the commit the kit last left ``branch`` at."""
    return f"flowjax-kit.{branch}.applied"


@dataclass(frozen=True)
class Target:
    """Where the series goes: a repository, its base commit and the series branch."""

    repo: Path
    base: str
    base_name: str
    branch: str
    mode: str


def expected_trees(repo: Path, base: str, patches: list[Patch]) -> list[str]:
    """Tree hashes after each patch, applied to `base` in a scratch index (3-way, as `git am -3`).

    Stops at the first patch that does not apply; the working tree is never touched.
    """
    trees: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GIT_INDEX_FILE=str(Path(tmp) / "index"))
        gitutil.run(repo, "read-tree", base, env=env)
        for patch in patches:
            applied = gitutil.run(repo, "apply", "--cached", "--3way", str(patch.path), env=env, check=False)
            if applied.returncode != 0:
                break
            trees.append(gitutil.run(repo, "write-tree", env=env).stdout.strip())
    return trees


def commits_above(repo: Path, base: str, head: str) -> list[str]:
    """Commits from `base` (exclusive) to `head`, oldest first, along first parents."""
    listed = gitutil.out(repo, "rev-list", "--reverse", "--first-parent", f"{base}..{head}")
    return listed.split()


def resolve_target(kit: Kit, pin: Pin, tag: str) -> Target | None:
    """Classify `kit.checkout`; None means there is nothing there yet."""
    repo = kit.checkout
    if not repo.exists() or (repo.is_dir() and not any(repo.iterdir())):
        return None
    if not gitutil.is_repo(repo):
        raise KitError(f"{repo} exists and is not a git repository; not touching it")
    if gitutil.get_config(repo, "flowjax-kit.mode") == "sdist":
        version = gitutil.get_config(repo, "flowjax-kit.version")
        if version != pin.version:
            raise KitError(
                f"{repo} holds FlowJAX {version} but the pin is {pin.version}: "
                "run `make apply FORCE=1` to rebuild it (the old one is moved aside, not deleted)"
            )
        base = gitutil.rev(repo, pin.base_tag)
        if base is None:
            raise KitError(f"{repo}: base tag {pin.base_tag} is missing; FORCE=1 rebuilds it")
        return Target(repo, base, pin.base_tag, pin.branch, "sdist")
    base = gitutil.rev(repo, tag)
    if base is None:
        raise KitError(
            f"{repo}: no tag {tag} in this clone; run `git fetch --tags` there "
            "or name the release tag with UPSTREAM_TAG="
        )
    return Target(repo, base, tag, pin.branch, "clone")


def uncommitted(repo: Path) -> list[str]:
    """Paths with local edits, or a one-item list naming a `git am` in progress."""
    if (repo / gitutil.out(repo, "rev-parse", "--git-path", "rebase-apply")).exists():
        return [f"a `git am` in progress; finish it or run `git -C {repo} am --abort`"]
    return gitutil.dirty(repo)


def record_applied(repo: Path, branch: str) -> None:
    """Remember ``branch``'s tip as the kit's own state: a later `make apply` may rebuild it."""
    gitutil.run(repo, "config", "--local", applied_key(branch), gitutil.out(repo, "rev-parse", branch))


def last_applied(repo: Path, branch: str) -> str | None:
    """The commit the kit last left ``branch`` at, if any."""
    return gitutil.get_config(repo, applied_key(branch))


def _check_clean(target: Target, ours: set[str]) -> None:
    """Refuse local edits; suggest `make refresh` only where it works (the stack's or a PR's branch)."""
    repo = target.repo
    changed = uncommitted(repo)
    if changed:
        here = gitutil.current_branch(repo) in ours
        keep = "commit them and run `make refresh`, or stash them" if here else "commit or stash them"
        raise KitError(
            f"{repo} has uncommitted changes ({changed[0]}"
            f"{f' and {len(changed) - 1} more' if len(changed) > 1 else ''}): {keep}; "
            "`make apply` will not overwrite them"
        )


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


def force_effect(target: Target) -> str:
    """What `make apply FORCE=1` really does to this checkout, in words."""
    if target.mode == "sdist":
        return (
            f"`make apply FORCE=1` moves this whole checkout, every branch, to "
            f"{target.repo}-backup-<time> and makes a fresh one"
        )
    return (
        f"`make apply FORCE=1` renames branch {target.branch} to backup/{target.branch}-backup-<time> "
        f"and makes it again from {target.base_name}"
    )


def _not_series(target: Target, foreign: list[str], tip: str) -> KitError:
    named = ", ".join(
        gitutil.out(target.repo, "log", "-1", "--format=%h (%s)", commit) for commit in foreign[:3]
    )
    more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
    if gitutil.current_branch(target.repo) == target.branch:
        export = "`make refresh` exports them to patches/"
    else:
        export = f"`git -C {target.repo} switch {target.branch}` and `make refresh` export them to patches/"
    return KitError(
        f"{target.repo}: branch {target.branch} has {len(foreign)} commit(s) that are not the "
        f"patch series: {named}{more}; {export}, or {force_effect(target)}"
    )


def _apply_one(target: Target, patch: Patch, last_good: str) -> None:
    proc = gitutil.run(
        target.repo,
        "am",
        "-3",
        "--quiet",
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
    where = re.search(
        r"error: (patch failed: \S+|\S+: (does not exist in index|already exists in index))", text
    )
    detail = where.group(1) if where else (text.strip().splitlines() or ["git am failed"])[0]
    raise KitError(f"{patch.name} does not apply: {detail}; checkout left at {last_good}")


def _backup_name(base: Path | str) -> str:
    return f"{base}-backup-{time.strftime('%Y%m%d-%H%M%S')}"


def force_aside(kit: Kit, branch: str, tag: str) -> None:
    """Move ``branch`` (or an sdist checkout) out of the way without deleting anything."""
    target = _resolve_loosely(kit)
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
            gitutil.run(repo, "switch", "--quiet", "--detach", tag)
        gitutil.run(repo, "branch", "-m", branch, backup)
        info(f"FORCE: renamed branch {branch} to {backup}")


def _resolve_loosely(kit: Kit) -> str | None:
    repo = kit.checkout
    if not repo.exists() or (repo.is_dir() and not any(repo.iterdir())):
        return None
    if not gitutil.is_repo(repo):
        raise KitError(f"{repo} exists and is not a git repository; not touching it")
    return "sdist" if gitutil.get_config(repo, "flowjax-kit.mode") == "sdist" else "clone"


@dataclass(frozen=True)
class Plan:
    """What `make apply` will do to the target branch, decided before anything moves.

    Attributes:
        start: How many patches the branch already holds (they stay); -1: rebuild it from
            the base (it holds only the kit's own last apply of an older series).
        tip: The branch's commit now, or None if it is new.
    """

    start: int
    tip: str | None


def plan(target: Target, patches: list[Patch]) -> Plan:
    """Compare the target branch (not HEAD: nothing is switched yet) with ``patches``.

    Raises:
        KitError: If the branch does not start from the base, or holds commits that are
            not the series and not the kit's own last apply.
    """
    repo = target.repo
    tip = gitutil.rev(repo, f"refs/heads/{target.branch}")
    if tip is None:
        return Plan(0, None)
    if gitutil.run(repo, "merge-base", "--is-ancestor", target.base, tip, check=False).returncode:
        raise KitError(
            f"{repo}: branch {target.branch} does not start from {target.base_name}; "
            f"rename it, or {force_effect(target)}"
        )
    trees = expected_trees(repo, target.base, patches)
    commits = commits_above(repo, target.base, tip)
    have = [gitutil.out(repo, "rev-parse", f"{c}^{{tree}}") for c in commits]
    good = next(
        (i for i, (a, b) in enumerate(zip(have, trees, strict=False)) if a != b), min(len(have), len(trees))
    )
    if good == len(have):
        return Plan(len(have), tip)
    if tip == last_applied(repo, target.branch):
        return Plan(-1, tip)
    raise _not_series(target, commits[good:], tip)


def unexported_note(kit: Kit, pin: Pin, target: Target, stack_patches: dict[str, list[Patch]]) -> str | None:
    """A line when the branch being left holds commits that are not in the patches."""
    repo = target.repo
    current = gitutil.current_branch(repo)
    if current is None or current == target.branch or current not in stack_patches:
        return None
    commits = commits_above(repo, target.base, "HEAD")
    have = [gitutil.out(repo, "rev-parse", f"{c}^{{tree}}") for c in commits]
    if have == expected_trees(repo, target.base, stack_patches[current]):
        return None
    return (
        f"{current} holds commits that are not in patches/ (they stay on it): "
        f"`git -C {repo} switch {current}` and `make refresh` export them"
    )


def check_checkout_dir(kit: Kit) -> None:
    """A checkout path the user named (FLOWJAX_DIR) must exist: a typo must not grow a checkout.

    Raises:
        KitError: If ``FLOWJAX_DIR`` names a path that does not exist and is not the default.
    """
    if kit.checkout != kit.default_checkout and not kit.checkout.exists():
        raise KitError(
            f"FLOWJAX_DIR={kit.checkout} does not exist: name your FlowJAX clone, "
            f"or `mkdir -p {kit.checkout}` first to have a fresh checkout made there"
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


def apply(kit: Kit, pin: Pin, *, tag: str | None = None, force: bool = False, pr: str | None = None) -> None:
    """Apply the stack (or PR ``pr`` and what it depends on) to `kit.checkout`.

    The whole stack goes on the series branch; one PR goes on that PR's branch. The
    checkout is created from the sdist when absent. Every refusal comes before anything
    moves (no branch is switched, nothing is committed).

    Raises:
        KitError: On bad input, local work in the way, or a patch that does not apply.
    """
    stack = load_stack(kit.patches, pin.branch)
    patches = stack.patches if pr is None else stack.patches_for(pr)
    branch = pin.branch if pr is None else stack.get(pr).branch
    tag = tag or pin.tag
    check_checkout_dir(kit)
    warn_drift(kit, pin)
    if force:
        force_aside(kit, branch, tag)
    target = resolve_target(kit, pin, tag)
    if target is None:
        create_from_sdist(kit, pin)
        target = resolve_target(kit, pin, tag)
        assert target is not None
    target = dataclasses.replace(target, branch=branch)
    branches = {pin.branch: stack.patches} | (
        {one.branch: stack.patches_for(one.name) for one in stack.prs} if len(stack.prs) > 1 else {}
    )
    _check_clean(target, set(branches))
    todo = plan(target, patches)
    note = unexported_note(kit, pin, target, branches)
    _enter_branch(target)
    repo = target.repo
    if note:
        warn(note)
    start = todo.start
    if start < 0:
        info(f"the series changed since the last apply; re-applying it on {target.base_name}")
        gitutil.run(repo, "update-ref", PREVIOUS_REF, todo.tip or "HEAD")
        gitutil.run(repo, "switch", "--quiet", "--force-create", target.branch, target.base)
        start = 0
    what = f"PR {pr} ({len(patches)} patch(es) with its dependencies)" if pr else f"{len(patches)} patch(es)"
    nxt = (
        "`make test-fast` or `make test` proves it; `make refresh` exports a commit; "
        "`make apply` returns to the whole stack"
        if pr
        else "`make test`"
    )
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
    info(f"checkout {repo}, branch {target.branch}: {what} on {target.base_name}. Next: {nxt}")
