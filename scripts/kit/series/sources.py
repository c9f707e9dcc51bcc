"""What a patch adds to an upstream file: the blocks the kit keeps as sources.

A source is what one PR's patch adds to one upstream file: either the whole file (the
patch creates it) or one block of lines the patch inserts directly above an anchor line
(`before`), or at the end of the file (no `before`). The rest of a patch (imports, a
docstring, the fix itself) lives in the patch alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from kit.log import KitError
from kit.series.patch import Patch
from kit.series.pin import Source
from kit.series.stack import Stack


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


def place(source: Source) -> str:
    if source.before is None:
        return f"to {source.target}"
    return f"to {source.target} above {source.before!r}"


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
