"""`make patches`: rebuild the patches from the sources (`flowjax_tests/`, `docs_additions/`)."""

from __future__ import annotations

from pathlib import Path

from kit.checkout.target import require_target
from kit.git import run as git
from kit.git.patch import am
from kit.git.worktree import scratch_worktree
from kit.log import KitError, info
from kit.ops.refresh import export
from kit.options import Options
from kit.paths import Kit
from kit.series.drift import drift
from kit.series.patch import Patch
from kit.series.pin import Pin, Source
from kit.series.sources import added_runs, block_of, owning_patch, place, replace_block
from kit.series.stack import load_stack


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
        raise KitError(f"{patch.name} adds no block {place(source)}")
    runs = added_runs(patch.path.read_text(), source.target) or []
    target.write_text(
        text if runs[0].new_file else replace_block(target.read_text(), old, text, source.before)
    )
    git.run(work, "add", source.target)


def _author_date(repo: Path) -> str:
    return git.out(repo, "log", "-1", "--format=%aI")


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make patches`: rebuild the patches from the sources on the checkout's base."""
    target = require_target(kit, pin, opts.upstream_ref)
    regenerate(kit, pin, target.base)
    info("patches rebuilt from the sources; `make apply` puts them on the checkout")
    return 0
