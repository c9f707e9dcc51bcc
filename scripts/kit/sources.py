"""Keep the kit's sources (`flowjax_tests/`, `docs_additions/`) and the patches in step.

- `drift`: what the series adds to each target equals its source, byte for byte.
- `export`: commits above the base become `patches/` (deterministic `git format-patch`).
- `regenerate`: rebuild the patches that carry a source, from the source.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from kit import gitutil
from kit.config import Kit, Pin, Source
from kit.log import KitError, info
from kit.series import Patch, read_series, write_series

# Output of `git format-patch` depends only on the commits: no hashes, dates of now,
# git version signature or user `format.*` settings.
FORMAT_PATCH = (
    "format-patch",
    "--no-numbered",
    "--zero-commit",
    "--full-index",
    "--no-signature",
    "--subject-prefix=PATCH",
)


def _clean_config_env() -> dict[str, str]:
    return dict(os.environ, GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL=os.devnull)


def added_text(patch_text: str, target: str) -> str | None:
    """The lines a patch adds to `target`, joined; None if the patch does not touch it."""
    added: list[str] = []
    inside = touched = False
    for line in patch_text.splitlines():
        if line.startswith("diff --git "):
            inside = line.endswith(f" b/{target}")
            touched |= inside
        elif inside and line.startswith("+") and not line.startswith("+++ "):
            added.append(line[1:] + "\n")
        elif inside and line == "\\ No newline at end of file" and added and added[-1].endswith("\n"):
            added[-1] = added[-1][:-1]
    return "".join(added) if touched else None


def series_text_for(patches: list[Patch], source: Source) -> tuple[Patch, str]:
    """The one patch that adds `source.target`, and the text it adds.

    Raises:
        KitError: If no patch or more than one patch touches the target.
    """
    found = [(p, t) for p in patches if (t := added_text(p.path.read_text(), source.target)) is not None]
    if not found:
        raise KitError(f"no patch in the series adds {source.target} (source {source.path})")
    if len(found) > 1:
        raise KitError(
            f"{source.target} is touched by {found[0][0].name} and {found[1][0].name}; keep it in one patch"
        )
    return found[0]


def drift(kit: Kit, pin: Pin) -> list[str]:
    """One line per source that differs from what its patch adds; empty when all agree."""
    patches = read_series(kit.patches)
    problems = []
    for source in pin.sources:
        patch, text = series_text_for(patches, source)
        path = kit.root / source.path
        mine = path.read_text() if path.is_file() else ""
        if mine != text:
            a, b = mine.splitlines(), text.splitlines()
            n = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
            problems.append(
                f"{source.path} differs from what {patch.name} adds to {source.target} "
                f"(first at line {n + 1}); run `make patches` to rebuild the patch from it"
            )
    return problems


def format_patches(repo: Path, base: str, head: str, out: Path) -> list[Path]:
    """`git format-patch base..head` into `out`, one file per commit, deterministic."""
    gitutil.run(repo, *FORMAT_PATCH, "-o", str(out), f"{base}..{head}", env=_clean_config_env())
    return sorted(out.glob("*.patch"))


def install_patches(new: list[Path], patches_dir: Path) -> list[str]:
    """Make `patches_dir` hold exactly `new`, listed in `series`.

    Files are rewritten only when their bytes change; patches no longer in the series are
    removed (they stay in the kit's git history).
    """
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
    return names


def export(repo: Path, base: str, head: str, patches_dir: Path) -> list[str]:
    """Write one patch per commit in `base..head` to `patches_dir`; return their names."""
    with tempfile.TemporaryDirectory() as tmp:
        return install_patches(format_patches(repo, base, head, Path(tmp)), patches_dir)


def _added_by(patches: list[Patch], source: Source) -> str | None:
    try:
        return series_text_for(patches, source)[1]
    except KitError:
        return None


def refresh(kit: Kit, pin: Pin, repo: Path, base: str) -> list[str]:
    """Export `base..HEAD` of the checkout to `patches/` and copy each target back to its source.

    Raises:
        KitError: If a source holds edits that are neither in the current series nor in the
            checkout: refreshing would overwrite them (`make patches` keeps them instead).
    """
    try:
        current = read_series(kit.patches)
    except KitError:
        current = []
    with tempfile.TemporaryDirectory() as tmp:
        new = [Patch(p) for p in format_patches(repo, base, "HEAD", Path(tmp))]
        texts = {}
        for source in pin.sources:
            path = kit.root / source.path
            mine = path.read_text() if path.is_file() else None
            texts[source.path] = series_text_for(new, source)[1]
            if mine not in (None, texts[source.path], _added_by(current, source)):
                raise KitError(
                    f"{source.path} has edits that are not in the series or the checkout; "
                    "run `make patches` to keep them, or revert them, before `make refresh`"
                )
        names = install_patches([p.path for p in new], kit.patches)
    for source in pin.sources:
        write_if_changed(kit.root / source.path, texts[source.path])
    return names


def write_if_changed(path: Path, text: str) -> None:
    """Write `text` to `path` unless it already holds exactly that."""
    if not path.is_file() or path.read_text() != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        info(f"wrote {path.name}")


def insert_block(original: str, block: str, before: str) -> str:
    """Insert `block` above the first line equal to `before`.

    Raises:
        KitError: If no such line exists.
    """
    lines = original.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.rstrip("\n") == before:
            return "".join(lines[:i]) + block + "".join(lines[i:])
    raise KitError(f"insertion point {before!r} not found")


def regenerate(kit: Kit, pin: Pin, base: str) -> None:
    """Rebuild the series from `base` with each source's text put into its patch, then export.

    Works in a scratch worktree of the checkout; the checkout itself is not touched.
    """
    patches = read_series(kit.patches)
    owners = {series_text_for(patches, s)[0].name: s for s in pin.sources}
    repo = kit.checkout
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp) / "work"
        gitutil.run(repo, "worktree", "add", "--quiet", "--detach", str(work), base)
        try:
            env = gitutil.kit_env()
            for patch in patches:
                gitutil.run(
                    work, "am", "--quiet", "--committer-date-is-author-date", str(patch.path), env=env
                )
                source = owners.get(patch.name)
                if source is None:
                    continue
                text = (kit.root / source.path).read_text()
                target = work / source.target
                if source.before is not None:
                    prior = gitutil.run(work, "show", f"HEAD~1:{source.target}").stdout
                    text = insert_block(prior, text, source.before)
                target.write_text(text)
                gitutil.run(work, "add", source.target)
                gitutil.run(
                    work,
                    "commit",
                    "--quiet",
                    "--amend",
                    "--no-edit",
                    "--allow-empty",
                    "--no-verify",
                    env=env | {"GIT_COMMITTER_DATE": _author_date(work)},
                )
            export(work, base, "HEAD", kit.patches)
            stale = drift(kit, pin)
            if stale:
                raise KitError(f"rebuilt patch does not reproduce its source: {stale[0]}")
        finally:
            gitutil.run(repo, "worktree", "remove", "--force", str(work), check=False)
            gitutil.run(repo, "worktree", "prune", check=False)


def _author_date(repo: Path) -> str:
    return gitutil.out(repo, "log", "-1", "--format=%aI")
