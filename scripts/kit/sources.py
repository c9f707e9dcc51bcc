"""Keep the kit's sources (`flowjax_tests/`, `docs_additions/`) and the patches in step.

A source is what one PR's patch adds to one upstream file: either the whole file (the
patch creates it) or one block of lines the patch inserts directly above an anchor line
(`before`), or at the end of the file (no `before`). The rest of a patch (imports, a
docstring, the fix itself) lives in the patch alone.

- `drift`: each source equals the block its patch adds (read from the patch text, so it
  needs no checkout: it runs as a pre-commit hook).
- `export`/`refresh`: commits above the base become `patches/` (deterministic `git
  format-patch`), PRs keep their patches, and each source is copied back from its patch.
- `regenerate`: rebuild the patches from the sources (`make patches`).
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kit import restack
from kit.config import Pin, Source
from kit.git import run as git
from kit.git.format import export as export_patches
from kit.git.format import patch_id
from kit.git.patch import am
from kit.git.worktree import scratch_worktree
from kit.log import KitError, info
from kit.paths import Kit
from kit.series import Patch, write_series
from kit.stack import PR, STACK_FILE, Stack, assign, header_of, load_stack, regroup, render


@dataclass(frozen=True)
class Run:
    """Consecutive lines a patch adds to one file.

    Attributes:
        text: The added lines, joined (each with its newline).
        next_line: The unchanged line right after them; None at the end of the file.
        new_file: Whether the patch creates the file.
    """

    text: str
    next_line: str | None
    new_file: bool


def added_runs(patch_text: str, target: str) -> list[Run] | None:
    """Every run of added lines a patch has for `target`; None if it does not touch it."""
    runs: list[Run] = []
    inside = touched = new_file = False
    current: list[str] = []

    def close(next_line: str | None) -> None:
        if current:
            runs.append(Run("".join(current), next_line, new_file))
            current.clear()

    for line in patch_text.splitlines():
        if line.startswith("diff --git "):
            close(None)
            inside = line.endswith(f" b/{target}")
            touched |= inside
            new_file = False
        elif not inside:
            continue
        elif line.startswith("new file mode"):
            new_file = True
        elif line.startswith(("--- ", "+++ ", "index ")):
            continue
        elif line.startswith("@@"):
            close(None)
        elif line.startswith("+"):
            current.append(line[1:] + "\n")
        elif line == "\\ No newline at end of file":
            if current and current[-1].endswith("\n"):
                current[-1] = current[-1][:-1]
        elif line.startswith(" "):
            close(line[1:])
        elif line.startswith("-"):
            close("")  # a replacement, not an insertion above an anchor
        elif line == "-- ":
            close(None)
            inside = False
    close(None)
    return runs if touched else None


def block_of(patch: Patch, source: Source) -> str | None:
    """The text `patch` adds for `source`; None if it has no such block."""
    runs = added_runs(patch.path.read_text(), source.target)
    if not runs:
        return None
    if runs[0].new_file:
        return "".join(run.text for run in runs)
    for run in runs:
        if run.next_line == source.before:
            return run.text
    return None


def owning_patch(stack: Stack, source: Source) -> Patch:
    """The patch that carries `source`: the last patch of its PR that touches its target.

    Raises:
        KitError: If no patch of that PR touches the target, or (without a PR named)
            several PRs do.
    """
    if source.pr is not None:
        candidates = list(stack.get(source.pr).patches)
    else:
        candidates = stack.patches
    touching = [p for p in candidates if added_runs(p.path.read_text(), source.target) is not None]
    if not touching:
        where = f"PR {source.pr}" if source.pr else "the series"
        raise KitError(f"no patch of {where} touches {source.target} (source {source.path})")
    owners = {stack.pr_of(p.name).name for p in touching}
    if source.pr is None and len(owners) > 1:
        raise KitError(f"{source.target} is touched by PRs {sorted(owners)}: name the PR of {source.path}")
    return touching[-1]


def _where(source: Source) -> str:
    if source.before is None:
        return f"to {source.target}"
    return f"to {source.target} above {source.before!r}"


def drift(kit: Kit, pin: Pin) -> list[str]:
    """One line per source that differs from what its patch adds; empty when all agree."""
    stack = load_stack(kit.patches, pin.branch)
    problems = []
    for source in pin.sources:
        patch = owning_patch(stack, source)
        text = block_of(patch, source)
        path = kit.root / source.path
        mine = path.read_text() if path.is_file() else ""
        if text is None:
            problems.append(f"{patch.name} adds no block {_where(source)} (source {source.path})")
        elif mine != text:
            a, b = mine.splitlines(), text.splitlines()
            n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            problems.append(
                f"{source.path} differs from what {patch.name} adds {_where(source)} "
                f"(first at line {n + 1}); run `make patches` to rebuild the patch from it"
            )
    return problems


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
    restack). An exported patch keeps its PR (see `stack.assign`).

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


def install_patches(new: list[Path], kit: Kit, pin: Pin, stack: Stack | None = None) -> list[str]:
    """Make `patches/` hold exactly `new`, listed in `series`; `stack.toml` follows `stack`.

    Files are rewritten only when their bytes change; patches no longer in the series are
    removed (they stay in the kit's git history).
    """
    patches_dir = kit.patches
    names = [p.name for p in new]
    for p in new:
        dest = patches_dir / p.name
        if not dest.is_file() or dest.read_bytes() != p.read_bytes():
            shutil.copyfile(p, dest)
            info(f"wrote patches/{p.name}")
    for old in patches_dir.glob("*.patch"):
        if old.name not in names:
            old.unlink()
            info(f"removed patches/{old.name} (no longer a commit on the branch)")
    series = patches_dir / "series"
    if not series.is_file() or series.read_text() != "".join(f"{n}\n" for n in names):
        write_series(patches_dir, names)
        info("wrote patches/series")
    if stack is not None:
        text = render(stack, header_of(patches_dir))
        if (patches_dir / STACK_FILE).read_text() != text:
            (patches_dir / STACK_FILE).write_text(text)
            info(f"wrote patches/{STACK_FILE}")
    load_stack(patches_dir, pin.branch)  # series and PRs agree
    return names


def export(kit: Kit, pin: Pin, repo: Path, base: str, head: str) -> list[str]:
    """Write the commits ``base..head`` (the whole stack) to `patches/`, each PR cut on its dependencies.

    Raises:
        KitError: If a PR does not apply on what it depends on (after writing the rest).
    """
    with tempfile.TemporaryDirectory() as tmp:
        new = cut(kit, pin, repo, base, head, Path(tmp))
        names = install_patches(new.files, kit, pin, new.stack)
    if new.problems:
        raise KitError("; ".join(p.line for p in new.problems))
    return names


@dataclass(frozen=True)
class Refreshed:
    """What `make refresh` wrote: the series' names, the patches whose bytes changed, PRs that did not apply."""

    names: list[str]
    changed: list[str]
    problems: list[restack.Problem]


def refresh(kit: Kit, pin: Pin, repo: Path, base: str, pr: str | None = None) -> Refreshed:
    """Export ``base..HEAD`` of the checkout to `patches/` and copy each source back.

    With ``pr``, HEAD is that PR's branch: its commits (and its dependencies') are exported,
    and the rest of the stack is re-cut on top of them (see `cut`).

    Raises:
        KitError: If a source holds edits that are neither in the current series nor in the
            checkout: refreshing would overwrite them (`make patches` keeps them instead).
            Nothing is written then.
    """
    stale = {p.split(" ", 1)[0] for p in drift(kit, pin)} if (kit.patches / "series").is_file() else set()
    with tempfile.TemporaryDirectory() as tmp:
        new = cut(kit, pin, repo, base, "HEAD", Path(tmp), pr)
        whole = new.stack or Stack(
            (PR(pin.branch, pin.branch, pin.branch, "", (), tuple(Patch(p) for p in new.files)),)
        )
        texts = {}
        for source in pin.sources:
            text = block_of(owning_patch(whole, source), source)
            if text is None:
                raise KitError(f"no commit on the branch adds the block of {source.path} {_where(source)}")
            path = kit.root / source.path
            if source.path in stale and path.is_file() and path.read_text() != text:
                raise KitError(
                    f"{source.path} has edits that are not in the series or the checkout; "
                    "run `make patches` to keep them, or revert them, before `make refresh`"
                )
            texts[source.path] = text
        before = {p.name: p.read_bytes() for p in kit.patches.glob("*.patch")}
        names = install_patches(new.files, kit, pin, new.stack)
    for path, text in texts.items():
        write_if_changed(kit.root / path, text, shown=path)
    changed = [n for n in names if before.get(n) != (kit.patches / n).read_bytes()]
    return Refreshed(names, changed, new.problems)


def write_if_changed(path: Path, text: str, shown: str | None = None) -> None:
    """Write `text` to `path` unless it already holds exactly that; ``shown`` names it in the log."""
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        info(f"wrote {shown or f'{path.parent.name}/{path.name}'}")


def replace_block(post: str, old: str, new: str, before: str | None) -> str:
    """Swap the block `old`, which sits directly above the line `before` (or ends the file).

    Raises:
        KitError: If `old` is not found there.
    """
    lines = post.splitlines(keepends=True)
    end = len(lines)
    if before is not None:
        end = next((i for i, line in enumerate(lines) if line.rstrip("\n") == before), -1)
        if end < 0:
            raise KitError(f"insertion point {before!r} not found")
    head = "".join(lines[:end])
    if not head.endswith(old):
        raise KitError(f"the block above {before!r} is not the one its patch adds")
    return head[: len(head) - len(old)] + new + "".join(lines[end:])


def regenerate(kit: Kit, pin: Pin, base: str) -> None:
    """Rebuild the series from `base` with each source's text put into its patch, then export.

    Works in a scratch worktree of the checkout; the checkout itself is not touched.
    """
    stack = load_stack(kit.patches, pin.branch)
    owners: dict[str, list[Source]] = {}
    for source in pin.sources:
        owners.setdefault(owning_patch(stack, source).name, []).append(source)
    with scratch_worktree(kit.checkout, base) as work:
        env = git.kit_env()
        for patch in stack.patches:
            if failure := am(work, patch.path):
                raise KitError(f"{patch.name} no longer applies after the sources changed: {failure.detail}")
            for source in owners.get(patch.name, []):
                _put_source(kit, work, patch, source)
            if patch.name in owners:
                git.run(
                    work,
                    "commit",
                    "--quiet",
                    "--amend",
                    "--no-edit",
                    "--allow-empty",
                    "--no-verify",
                    env=env | {"GIT_COMMITTER_DATE": _author_date(work)},
                )
        export(kit, pin, work, base, "HEAD")
        stale = drift(kit, pin)
        if stale:
            raise KitError(f"rebuilt patch does not reproduce its source: {stale[0]}")


def _put_source(kit: Kit, work: Path, patch: Patch, source: Source) -> None:
    text = (kit.root / source.path).read_text()
    target = work / source.target
    old = block_of(patch, source)
    if old is None:
        raise KitError(f"{patch.name} adds no block {_where(source)}")
    runs = added_runs(patch.path.read_text(), source.target) or []
    target.write_text(
        text if runs[0].new_file else replace_block(target.read_text(), old, text, source.before)
    )
    git.run(work, "add", source.target)


def _author_date(repo: Path) -> str:
    return git.out(repo, "log", "-1", "--format=%aI")
