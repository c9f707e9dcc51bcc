"""`make refresh`: export the checkout's commits to `patches/` and copy each source back.

Commits above the base become `patches/` (deterministic `git format-patch`), PRs keep their
patches (see `series.stack.assign`), every PR is cut again on what it depends on (a restack),
and each source is copied back from its patch.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from kit.git.format import export as export_patches
from kit.git.format import patch_id
from kit.log import KitError, info
from kit.ops import restack
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
                raise KitError(f"no commit on the branch adds the block of {source.path} {place(source)}")
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
