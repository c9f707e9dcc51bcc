"""The target: which checkout and base the series goes on, and how the checkout stands (the require_* refusals).

Which base, a clean tree, the stack branch, the commits above the base, the foreign ones.

`apply`, `test`, `pr`, `bump`, `envs` and `refresh` all ask this module before they act, so a
checkout is judged the same way by every command.

The base is a commit of upstream: in the kit's sdist checkout always the release's base tag; in
a user's clone ``UPSTREAM_REF`` (``UPSTREAM_TAG`` is its old name), else the ref the kit last
applied the stack onto (recorded in the clone's own config), else the pinned release tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kit.checkout import state
from kit.git import run as git
from kit.git.index import scratch_index
from kit.git.patch import Failure, apply_to_index
from kit.log import KitError
from kit.paths import Kit
from kit.series.pin import Pin
from kit.series.stack import PR, Stack


@dataclass(frozen=True)
class Target:
    """Where the series goes: a repository, its base commit and the series branch.

    Attributes:
        repo: The checkout.
        base: The base commit (full hash).
        base_name: The base as named: the release tag, ``main``, ``origin/main``, a hash.
        branch: The branch the series (or one PR) goes on.
        mode: ``sdist`` (the kit's own checkout, no upstream history) or ``clone``.
    """

    repo: Path
    base: str
    base_name: str
    branch: str
    mode: str

    @property
    def is_release(self) -> bool:
        """Whether the base is a tag (a release), not a moving branch or a bare commit."""
        return self.mode == "sdist" or git.rev(self.repo, f"refs/tags/{self.base_name}") == self.base

    def describe(self) -> str:
        """The base in words: ``v19.1.2``, ``19.1.2 (PyPI sdist)`` or ``main at abc1234, 2026-11-20``."""
        if self.mode == "sdist":
            return f"{self.base_name.removeprefix('upstream/')} (PyPI sdist)"
        if self.is_release:
            return self.base_name
        day = git.out(self.repo, "log", "-1", "--format=%cs", self.base)
        if self.base.startswith(self.base_name.lower()):  # named by its hash
            return f"{self.base[:7]}, {day}"
        return f"{self.base_name} at {self.base[:7]}, {day}"

    def facts(self) -> dict[str, str]:
        """What a result records about its base: the ref, the commit and the commit's date."""
        return {
            "base_ref": self.base_name,
            "base_commit": self.base,
            "base_date": git.out(self.repo, "log", "-1", "--format=%cI", self.base),
            "base_label": self.describe(),
        }


def kind(kit: Kit) -> str | None:
    """``sdist``, ``clone``, or None when there is nothing at the checkout path yet.

    A path named with ``FLOWJAX_DIR`` must exist (an empty directory is made into a fresh
    checkout): a mistyped path must not grow a second checkout.

    Raises:
        KitError: If the path holds something that is not a git work tree, or is a
            ``FLOWJAX_DIR`` that does not exist.
    """
    repo = kit.checkout
    if kit.named_checkout and not repo.exists():
        raise KitError(
            f"FLOWJAX_DIR={repo} does not exist: name your FlowJAX clone, "
            f"or `mkdir -p {repo}` first to have a fresh checkout made there"
        )
    if not repo.exists() or (repo.is_dir() and not any(repo.iterdir())):
        return None
    if not git.is_repo(repo):
        raise KitError(f"{repo} exists and is not a git repository; not touching it")
    return "sdist" if state.mode(repo) == "sdist" else "clone"


def sdist_history_note(pin: Pin) -> str:
    """One line: the sdist checkout cannot be pushed, and the command that works instead."""
    return (
        f"this checkout is the PyPI sdist with a synthetic root commit, not {pin.github}'s history: "
        "GitHub refuses its branches; in your clone of upstream run "
        "`make apply FLOWJAX_DIR=<your clone> UPSTREAM_REF=main`, then `make test` and `make pr` there"
    )


def resolve_target(kit: Kit, pin: Pin, ref: str | None = None, branch: str | None = None) -> Target | None:
    """Classify `kit.checkout` and find its base; None means there is nothing there yet.

    ``ref`` is the base asked for (None: the recorded one, else the release tag).

    Raises:
        KitError: If the checkout is not a repo, holds another release, or lacks the ref.
    """
    mode = kind(kit)
    if mode is None:
        return None
    repo, branch = kit.checkout, branch or pin.branch
    if mode == "sdist":
        version = state.version(repo)
        if version != pin.version:
            raise KitError(
                f"{repo} holds FlowJAX {version} but the pin is {pin.version}: "
                f"`make apply FORCE=1` moves it, every branch, to {repo}-backup-<time> and makes a fresh one"
            )
        if ref not in (None, pin.tag, pin.base_tag):
            raise KitError(
                f"{repo} has no {ref}: it is the PyPI sdist of {pin.version}, without upstream's history; "
                f"clone {pin.github} and run `make apply FLOWJAX_DIR=<your clone> UPSTREAM_REF={ref}`"
            )
        base = git.rev(repo, pin.base_tag)
        if base is None:
            raise KitError(f"{repo}: base tag {pin.base_tag} is missing; FORCE=1 rebuilds it")
        return Target(repo, base, pin.base_tag, branch, "sdist")
    name = ref or state.base(repo) or pin.tag
    base = git.rev(repo, name)
    if base is None:
        raise KitError(
            f"{repo}: no {name} in this clone (a tag, branch or commit); run `git fetch --tags origin` "
            "there, or name the base with UPSTREAM_REF="
        )
    return Target(repo, base, name, branch, "clone")


def require_target(kit: Kit, pin: Pin, ref: str | None = None) -> Target:
    """The checkout's target, which must exist.

    Raises:
        KitError: If there is no checkout yet.
    """
    target = resolve_target(kit, pin, ref)
    if target is None:
        raise KitError(f"no checkout at {kit.checkout}; run `make apply` first")
    return target


def uncommitted(repo: Path) -> list[str]:
    """Paths with local edits, or a one-item list naming a `git am` in progress."""
    if (repo / git.out(repo, "rev-parse", "--git-path", "rebase-apply")).exists():
        return [f"a `git am` in progress; finish it or run `git -C {repo} am --abort`"]
    return git.dirty(repo)


def require_clean(repo: Path, advice: str) -> None:
    """Refuse a checkout with local edits (or a `git am` in progress), naming the first.

    Raises:
        KitError: ``<repo> has uncommitted changes (<path> and N more): <advice>``.
    """
    changed = uncommitted(repo)
    if changed:
        more = f" and {len(changed) - 1} more" if len(changed) > 1 else ""
        raise KitError(f"{repo} has uncommitted changes ({changed[0]}{more}): {advice}")


def require_stack_branch(target: Target, pin: Pin) -> None:
    """The whole-stack stages run on the series branch, not on one PR's branch.

    Raises:
        KitError: If the checkout is on another branch.
    """
    current = git.current_branch(target.repo)
    if current != pin.branch:
        raise KitError(
            f"{target.repo} is on {current or 'a detached HEAD'}, not the stack branch {pin.branch}: "
            "run `make apply` to go back to the whole stack"
        )


def require_on_base(target: Target, head: str = "HEAD") -> None:
    """The branch must start from the target's base (a moved ``main`` means re-applying).

    Raises:
        KitError: If ``target.base`` is not an ancestor of ``head``.
    """
    if not git.is_ancestor(target.repo, target.base, git.out(target.repo, "rev-parse", head)):
        raise KitError(
            f"{target.repo}: branch {target.branch} does not start from {target.base_name} "
            f"({target.base[:7]}): run `make apply UPSTREAM_REF={target.base_name}` to put the stack on it"
        )


def commits_above(repo: Path, base: str, head: str) -> list[str]:
    """Commits from `base` (exclusive) to `head`, oldest first, along first parents."""
    listed = git.out(repo, "rev-list", "--reverse", "--first-parent", f"{base}..{head}")
    return listed.split()


def expected_trees(repo: Path, base: str, patches: list) -> list[str]:
    """Tree hashes after each patch, applied to ``base`` (3-way where needed) in a scratch index.

    Stops at the first patch that does not apply; the working tree is never touched.
    """
    trees: list[str] = []
    with scratch_index(repo, base) as index:
        for patch in patches:
            if isinstance(apply_to_index(index, patch.path), Failure):
                break
            trees.append(index.write_tree())
    return trees


def foreign_commits(target: Target, patches: list, head: str = "HEAD") -> list[str]:
    """Commits above the base on ``head`` that are not ``patches``' (in order); [] if it is exactly them."""
    repo = target.repo
    commits = commits_above(repo, target.base, head)
    have = [git.tree(repo, c) for c in commits]
    trees = expected_trees(repo, target.base, patches)
    good = next(
        (i for i, (a, b) in enumerate(zip(have, trees, strict=False)) if a != b), min(len(have), len(trees))
    )
    return commits[good:]


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


def not_series_error(target: Target, foreign: list[str]) -> KitError:
    """The one line for a branch holding commits that are not the series.

    ``target.branch`` need not be checked out (`make apply` asks before it switches): the
    way to export them then starts by switching to it.
    """
    named = ", ".join(git.out(target.repo, "log", "-1", "--format=%h (%s)", commit) for commit in foreign[:3])
    more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
    if git.current_branch(target.repo) == target.branch:
        export = "`make refresh` exports them to patches/"
    else:
        export = f"`git -C {target.repo} switch {target.branch}` then `make refresh` exports them to patches/"
    return KitError(
        f"{target.repo}: branch {target.branch} has {len(foreign)} commit(s) that are not the "
        f"patch series: {named}{more}; {export}, or {force_effect(target)}"
    )


def branch_pr(target: Target, pin: Pin, stack: Stack) -> PR | None:
    """The PR whose branch the checkout is on (`make apply PR=`); None on the stack branch.

    Raises:
        KitError: On any other branch, or a detached HEAD.
    """
    current = git.current_branch(target.repo)
    if current == pin.branch:
        return None
    for pr in stack.prs:
        if pr.branch == current and len(stack.prs) > 1:
            return pr
    raise KitError(
        f"{target.repo} is on {current or 'a detached HEAD'}, neither the stack branch {pin.branch} "
        "nor a PR's branch: `make apply` (the whole stack) or `make apply PR=<name>` (one PR) first"
    )


def require_stack_applied(target: Target, pin: Pin, patches: list) -> None:
    """Clean tree, on the stack branch, on the base, holding exactly ``patches``.

    Raises:
        KitError: Naming the first of these that does not hold.
    """
    repo = target.repo
    require_clean(repo, "commit and `make refresh` first")
    if git.current_branch(repo) != pin.branch:
        raise KitError(f"{repo} is not on the stack branch {pin.branch}; run `make apply` first")
    require_on_base(target)
    commits = commits_above(repo, target.base, "HEAD")
    trees = [git.tree(repo, c) for c in commits]
    if trees != expected_trees(repo, target.base, patches):
        raise KitError(
            f"{pin.branch} in {repo} is not exactly patches/series: "
            "run `make refresh` (keep the checkout's commits) or `make apply` (take the patches)"
        )
