"""`make refresh`: export the checkout's commits to `patches/` and copy each source back.

Commits above the base become `patches/` (deterministic `git format-patch`), PRs keep their
patches (see `series.stack.assign`), every PR is cut again on what it depends on (a restack),
and each source is copied back from its patch.

Plan, then execute: `plan_refresh` makes every check and cuts the new series in scratch
worktrees, holding it in memory (`NewSeries`); `execute` is the only step that writes
`patches/`, the sources and the kit's record of the branch. ``DRY_RUN=1`` prints the plan.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kit.checkout import state
from kit.checkout.target import (
    Target,
    branch_pr,
    commits_above,
    require_clean,
    require_on_base,
    require_target,
)
from kit.git import run as git
from kit.git.format import export as export_patches
from kit.git.format import patch_id
from kit.log import KitError, info, show_plan
from kit.ops import restack
from kit.options import Options
from kit.paths import Kit
from kit.series.drift import drift
from kit.series.patch import Patch
from kit.series.pin import Pin
from kit.series.series_file import write_series
from kit.series.sources import block_of, owning_patch, place
from kit.series.stack import PR, STACK_FILE, Stack, assign, load_stack, regroup
from kit.series.stack_toml import header_of, render


@dataclass(frozen=True)
class Cut:
    """A new series: its files in order, its stack (None without stack.toml), and PRs that did not apply."""

    files: list[Path]
    stack: Stack | None
    problems: list[restack.Problem]


def cut(kit: Kit, pin: Pin, repo: Path, base: str, head: str, tmp: Path, pr: str | None = None) -> Cut:
    """The series after exporting ``base..head``, each PR cut against the base plus its dependencies.

    ``head`` holds the whole stack, or with ``pr`` that PR and what it depends on (a PR's
    branch): then only those PRs take the exported commits and the other PRs keep their
    patches; every PR that depends on an exported one is replayed on its new patches (a
    restack). An exported patch keeps its PR (see `series.stack.assign`).

    Raises:
        KitError: If the commits no longer keep each PR's patches together.
    """
    (tmp / "exported").mkdir()
    exported = export_patches(repo, base, head, tmp / "exported")
    if not (kit.patches / STACK_FILE).is_file():
        return Cut(exported, None, [])  # one PR on the base: nothing to cut apart
    stack = load_stack(kit.patches, pin.branch)
    scope = stack if pr is None else Stack(tuple(stack.closure(pr)))
    old_ids = {p.name: patch_id(p.path) for p in scope.patches}
    owners = assign(scope, [p.name for p in exported], {p.name: patch_id(p) for p in exported}, old_ids)
    regroup(scope, owners, [Patch(p) for p in exported])  # refuses interleaved PRs
    if pr is not None and (gone := [name for name in scope.names if not owners[name]]):
        raise KitError(
            f"PR {gone[0]} has no commit left on PR {pr}'s branch: refreshing would drop it from the "
            "stack; restore its commits there, or remove it from patches/stack.toml on the stack branch"
        )
    by_name = {p.name: p for p in exported}
    inputs = {
        one.name: [by_name[n] for n in owners[one.name]]
        if one.name in owners
        else [p.path for p in one.patches]
        for one in stack.prs
    }
    files, problems = restack.recut(repo, base, stack, inputs, tmp / "cut")
    new_owners = {one.name: [f.name for f in files if f.parent.name == one.name] for one in stack.prs}
    regrouped = regroup(stack, new_owners, [Patch(f) for f in files])
    if not problems and (whole := restack.stack_problem(repo, base, regrouped)):
        problems.append(whole)
    return Cut(files, regrouped, problems)


@dataclass(frozen=True)
class NewSeries:
    """A series cut in scratch worktrees, held in memory until it is installed.

    Attributes:
        files: Each patch file's name and bytes, in series order.
        stack_text: `stack.toml` as it will be written (None: the kit has no stack.toml).
        prs: Each PR's name and its patches' names, in stack order.
        depends: Each PR's name and the names of the PRs it depends on, transitively.
        problems: The PRs that did not apply where they belong (they keep their patches).
    """

    files: tuple[tuple[str, bytes], ...]
    stack_text: str | None
    prs: tuple[tuple[str, tuple[str, ...]], ...]
    depends: tuple[tuple[str, tuple[str, ...]], ...]
    problems: tuple[restack.Problem, ...]

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.files]

    def changes(self, kit: Kit) -> list[tuple[str, str]]:
        """What installing it changes in `patches/`: (``wrote``/``removed``, file name)."""
        here = kit.patches
        out = [
            ("wrote", n)
            for n, data in self.files
            if not (here / n).is_file() or (here / n).read_bytes() != data
        ]
        out += [("removed", p.name) for p in sorted(here.glob("*.patch")) if p.name not in self.names]
        series = here / "series"
        if not series.is_file() or series.read_text() != "".join(f"{n}\n" for n in self.names):
            out.append(("wrote", "series"))
        if self.stack_text is not None and (here / STACK_FILE).read_text() != self.stack_text:
            out.append(("wrote", STACK_FILE))
        return out


def hold(kit: Kit, pin: Pin, new: Cut) -> NewSeries:
    """``new`` (files in a temporary folder) read into memory."""
    stack = new.stack or Stack(
        (PR(pin.branch, pin.branch, pin.branch, "", (), tuple(Patch(p) for p in new.files)),)
    )
    return NewSeries(
        tuple((p.name, p.read_bytes()) for p in new.files),
        render(new.stack, header_of(kit.patches)) if new.stack is not None else None,
        tuple((pr.name, tuple(p.name for p in pr.patches)) for pr in stack.prs),
        tuple((pr.name, tuple(stack.names_in(pr.name))) for pr in stack.prs),
        tuple(new.problems),
    )


def install(kit: Kit, pin: Pin, new: NewSeries) -> list[str]:
    """Make `patches/` hold exactly ``new``, listed in `series`, with its `stack.toml`.

    Files are rewritten only when their bytes change; patches no longer in the series are
    removed (they stay in the kit's git history).
    """
    here, data = kit.patches, dict(new.files)
    for action, name in new.changes(kit):
        if action == "removed":
            (here / name).unlink()
            info(f"removed patches/{name} (no longer a commit on the branch)")
            continue
        if name == "series":
            write_series(here, new.names)
        elif name == STACK_FILE:
            (here / STACK_FILE).write_text(new.stack_text or "")
        else:
            (here / name).write_bytes(data[name])
        info(f"wrote patches/{name}")
    load_stack(here, pin.branch)  # series and PRs agree
    return new.names


def export(kit: Kit, pin: Pin, repo: Path, base: str, head: str) -> list[str]:
    """Write the commits ``base..head`` (the whole stack) to `patches/`, each PR cut on its dependencies.

    Raises:
        KitError: If a PR does not apply on what it depends on (after writing the rest).
    """
    with tempfile.TemporaryDirectory() as tmp:
        new = hold(kit, pin, cut(kit, pin, repo, base, head, Path(tmp)))
    names = install(kit, pin, new)
    if new.problems:
        raise KitError("; ".join(p.line for p in new.problems))
    return names


@dataclass(frozen=True)
class RefreshPlan:
    """What `make refresh` will write, every check made.

    Attributes:
        kit: The kit's paths.
        pin: The pin.
        target: The checkout and its base.
        pr: The PR whose branch is exported (`make apply PR=`), or None for the whole stack.
        commits: How many commits above the base are exported.
        new: The new series.
        sources: Each source's path in the kit and the text it will hold.
        changes: What installing ``new`` changes in `patches/` (see `NewSeries.changes`).
        changed_sources: The sources whose text changes.
    """

    kit: Kit
    pin: Pin
    target: Target
    pr: str | None
    commits: int
    new: NewSeries
    sources: tuple[tuple[str, str], ...]
    changes: tuple[tuple[str, str], ...]
    changed_sources: tuple[str, ...]

    @property
    def changed(self) -> list[str]:
        """The PRs with a patch file that is new or whose bytes change."""
        names = {n for a, n in self.changes if a == "wrote"}
        return [pr for pr, patches in self.new.prs if names & set(patches)]

    def steps(self) -> list[str]:
        verb = {"wrote": "write", "removed": "remove"}
        lines = [f"{verb[a]} patches/{n}" for a, n in self.changes]
        lines += [f"write {path}" for path in self.changed_sources]
        branch = self.target.branch
        return [*lines, f"record {branch}'s tip as the kit's ({state.APPLIED}{branch})"]


def plan_refresh(kit: Kit, pin: Pin, opts: Options) -> RefreshPlan:
    """Check the checkout, cut the new series in scratch worktrees and read each source from it.

    On a PR's branch (`make apply PR=`) its commits (and its dependencies') are exported, and
    the rest of the stack is re-cut on top of them (see `cut`).

    Raises:
        KitError: On local edits, a branch that is not the stack's or a PR's, a base the branch
            does not start from, commits that interleave PRs, a source whose block no commit
            adds, or a source holding edits that are neither in the series nor in the
            checkout (`make patches` keeps them instead). Nothing is written then.
    """
    found = require_target(kit, pin, opts.upstream_ref)
    require_clean(found.repo, "commit them first; refresh exports commits")
    one = branch_pr(found, pin, load_stack(kit.patches, pin.branch))
    target = dataclasses.replace(found, branch=one.branch if one else pin.branch)
    require_on_base(target)
    commits = len(commits_above(target.repo, target.base, "HEAD"))
    stale = {p.split(" ", 1)[0] for p in drift(kit, pin)} if (kit.patches / "series").is_file() else set()
    with tempfile.TemporaryDirectory() as tmp:
        new = cut(kit, pin, target.repo, target.base, "HEAD", Path(tmp), one.name if one else None)
        whole = new.stack or Stack(
            (PR(pin.branch, pin.branch, pin.branch, "", (), tuple(Patch(p) for p in new.files)),)
        )
        texts = []
        for source in pin.sources:
            text = block_of(owning_patch(whole, source), source)
            if text is None:
                raise KitError(f"no commit on the branch adds the block of {source.path} {place(source)}")
            path = kit.root / source.path
            if source.path in stale and path.is_file() and path.read_text() != text:
                raise KitError(
                    f"{source.path} has edits that are not in the series or the checkout; "
                    "run `make patches` to keep them, or revert them, before `make refresh`"
                )
            texts.append((source.path, text))
        held = hold(kit, pin, new)
    root = kit.root
    differ = tuple(p for p, text in texts if not (root / p).is_file() or (root / p).read_text() != text)
    return RefreshPlan(
        kit,
        pin,
        target,
        one.name if one else None,
        commits,
        held,
        tuple(texts),
        tuple(held.changes(kit)),
        differ,
    )


def execute(plan: RefreshPlan) -> None:
    """Write the new series and the sources, and record the branch as the kit's: the one step that moves.

    Raises:
        KitError: If a PR did not apply where it belongs (its patches are kept as they were;
            everything else is written).
    """
    kit, target = plan.kit, plan.target
    changed = plan.changed
    install(kit, plan.pin, plan.new)
    for path, text in plan.sources:
        write_if_changed(kit.root / path, text, shown=path)
    tip = git.out(target.repo, "rev-parse", target.branch)
    state.record_applied(target.repo, target.branch, tip, f"refresh: exported {plan.commits} commit(s)")
    if target.mode == "clone":
        state.record_base(target.repo, target.base_name)
    unchanged = [name for name, _ in plan.new.prs if name not in changed]
    info(
        f"exported {plan.commits} commit(s) of {target.branch} above {target.base_name} to {kit.patches}: "
        + (f"changed PR(s) {', '.join(changed)}" if changed else "no patch changed")
        + (f"; unchanged: {', '.join(unchanged)}" if changed and unchanged else "")
    )
    if plan.new.problems:
        first = plan.new.problems[0]
        raise KitError(
            f"{'; '.join(p.line for p in plan.new.problems)}. Its patches are kept as they were: "
            f"`make apply PR={first.pr}` stops before {first.patch}; there `git -C {target.repo} am -3 "
            f"{kit.patches / first.patch}`, resolve, `git am --continue`, then `make refresh`"
        )
    if plan.pr is not None:
        above = [name for name, closure in plan.new.depends if name != plan.pr and plan.pr in closure]
        on_top = f"re-cut on top of it: {', '.join(above)}" if above else "no PR depends on it"
        info(f"{on_top}; `make apply` returns to the whole stack")


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make refresh` (``DRY_RUN=1`` prints the plan)."""
    plan = plan_refresh(kit, pin, opts)
    if opts.dry_run:
        show_plan(plan.steps())
    else:
        execute(plan)
    return 0


def write_if_changed(path: Path, text: str, shown: str | None = None) -> None:
    """Write `text` to `path` unless it already holds exactly that; ``shown`` names it in the log."""
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        info(f"wrote {shown or f'{path.parent.name}/{path.name}'}")
