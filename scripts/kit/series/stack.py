"""The stack of upstream PRs: `patches/stack.toml` groups `patches/series` into named PRs.

Every rule about PRs lives here: their order (that of the series), what each depends on,
which patches it carries, and which PRs can be proven alone. The other modules ask.
Without a `stack.toml` the whole series is one PR, named after the series branch.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from kit.log import KitError
from kit.series.patch import Patch
from kit.series.series_file import read_series

STACK_FILE = "stack.toml"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")


@dataclass(frozen=True)
class PR:
    """One upstream pull request: a named run of patches with its own branch.

    Attributes:
        name: Short identifier (``PR=<name>``), also the folder under build/pr/.
        branch: The PR's branch in a FlowJAX clone.
        title: The PR's title.
        summary: Hand-written opening of the PR body (Markdown).
        depends: Names of earlier PRs this one needs applied first.
        patches: Its patches, in series order.
        issue: Path (in the kit) of an upstream issue text this PR fixes, whose
            reproducer must fail on the pin and pass with the PR; None if there is none.
    """

    name: str
    branch: str
    title: str
    summary: str
    depends: tuple[str, ...]
    patches: tuple[Patch, ...]
    issue: str | None = None


@dataclass(frozen=True)
class Stack:
    """The PRs in order; their patches, concatenated, are exactly the series."""

    prs: tuple[PR, ...]

    @property
    def names(self) -> list[str]:
        """PR names in stack order."""
        return [pr.name for pr in self.prs]

    @property
    def patches(self) -> list[Patch]:
        """The whole series, in order."""
        return [patch for pr in self.prs for patch in pr.patches]

    def get(self, name: str) -> PR:
        """The PR called ``name``.

        Raises:
            KitError: If there is none.
        """
        for pr in self.prs:
            if pr.name == name:
                return pr
        raise KitError(f"no PR named {name!r} in the stack (PRs: {', '.join(self.names)})")

    def closure(self, name: str) -> list[PR]:
        """``name`` and everything it depends on, transitively, in stack order."""
        wanted: set[str] = set()
        todo = [name]
        while todo:
            pr = self.get(todo.pop())
            if pr.name not in wanted:
                wanted.add(pr.name)
                todo.extend(pr.depends)
        return [pr for pr in self.prs if pr.name in wanted]

    def patches_for(self, name: str) -> list[Patch]:
        """The patches to apply for PR ``name``: its dependencies' first, in series order."""
        return [patch for pr in self.closure(name) for patch in pr.patches]

    def pr_of(self, patch_name: str) -> PR:
        """The PR that carries the patch ``patch_name``.

        Raises:
            KitError: If no PR does.
        """
        for pr in self.prs:
            if any(p.name == patch_name for p in pr.patches):
                return pr
        raise KitError(f"{patch_name} belongs to no PR of the stack")

    def provable_alone(self) -> list[PR]:
        """PRs whose dependency closure is not the whole stack: each gets its own proof.

        The PR whose closure is the whole stack is proven by the run of the whole stack.
        """
        if len(self.prs) == 1:
            return []
        return [pr for pr in self.prs if len(self.closure(pr.name)) < len(self.prs)]

    def names_in(self, name: str) -> list[str]:
        """Names in the closure of ``name``."""
        return [pr.name for pr in self.closure(name)]


def load_stack(patches_dir: Path, default_branch: str) -> Stack:
    """Read `series` and `stack.toml` and check that they agree.

    Raises:
        KitError: If the file is malformed, a patch is in no PR or in two, the PRs'
            patches are not the series in order, or a dependency is unknown or later.
    """
    series = read_series(patches_dir)
    path = patches_dir / STACK_FILE
    if not path.is_file():
        return Stack((PR(default_branch, default_branch, default_branch, "", (), tuple(series)),))
    try:
        entries = tomllib.loads(path.read_text()).get("pr", [])
    except tomllib.TOMLDecodeError as e:
        raise KitError(f"{path}: not valid TOML ({e})") from None
    by_name = {p.name: p for p in series}
    prs: list[PR] = []
    for n, entry in enumerate(entries, 1):
        try:
            name = str(entry["name"])
            pr = PR(
                name=name,
                branch=str(entry.get("branch", name)),
                title=str(entry["title"]),
                summary=str(entry.get("summary", "")).strip(),
                depends=tuple(str(d) for d in entry.get("depends", [])),
                patches=tuple(
                    by_name[p] if p in by_name else _missing(path, name, p) for p in entry["patches"]
                ),
                issue=str(entry["issue"]) if "issue" in entry else None,
            )
        except (KeyError, TypeError) as e:
            raise KitError(f"{path}: PR #{n} is missing or has a malformed field {e}") from None
        _check_pr(path, pr, prs)
        prs.append(pr)
    if not prs:
        raise KitError(f"{path}: no [[pr]] entries")
    shared = next((pr for pr in prs if pr.branch == default_branch), None)
    if shared is not None and len(prs) > 1:
        raise KitError(
            f"{path}: PR {shared.name}'s branch {default_branch} is the branch of the whole stack; name another"
        )
    stack = Stack(tuple(prs))
    listed = [p.name for p in stack.patches]
    if listed != [p.name for p in series]:
        extra = sorted(set(by_name) - set(listed))
        if extra:
            raise KitError(f"{path}: {extra[0]} is in patches/series but in no PR")
        raise KitError(f"{path}: the PRs list their patches in another order than patches/series")
    return stack


def _missing(path: Path, name: str, patch: str) -> Patch:
    raise KitError(f"{path}: PR {name} lists {patch}, which is not in patches/series")


def _check_pr(path: Path, pr: PR, earlier: list[PR]) -> None:
    if not _NAME.match(pr.name):
        raise KitError(f"{path}: PR name {pr.name!r} must be lower-case letters, digits, '.' and '-'")
    names = [p.name for p in earlier]
    if pr.name in names:
        raise KitError(f"{path}: two PRs are named {pr.name}")
    if pr.branch in [p.branch for p in earlier]:
        raise KitError(f"{path}: PRs {pr.name} and another share the branch {pr.branch}")
    if not pr.patches:
        raise KitError(f"{path}: PR {pr.name} has no patches")
    for dep in pr.depends:
        if dep not in names:
            where = "is unknown" if dep != pr.name else "is the PR itself"
            raise KitError(f"{path}: PR {pr.name} depends on {dep!r}, which {where} or comes later")


def assign(
    stack: Stack, new_names: list[str], patch_ids: dict[str, str], old_ids: dict[str, str]
) -> dict[str, list[str]]:
    """Assign freshly exported patch names to PRs (for `make refresh`).

    A patch keeps its PR when its file name, or else its patch-id, matches an old patch. If
    neither does but the series has as many patches as before (a commit reworded and
    amended in place), it takes the PR of the old patch at its position. Otherwise it joins
    the PR of the patch before it (the first PR if it comes first).

    Args:
        stack: The stack as it was.
        new_names: The exported patch names, in order.
        patch_ids: New name -> `git patch-id` of that patch.
        old_ids: Old patch name -> its patch-id.

    Returns:
        PR name -> its new patch names, for every PR of ``stack`` (possibly empty).
    """
    by_id = {pid: name for name, pid in old_ids.items() if pid}  # an empty commit has no id
    old_order = [p.name for p in stack.patches]
    same_length = len(new_names) == len(old_order)
    owners: dict[str, list[str]] = {pr.name: [] for pr in stack.prs}
    previous = stack.prs[0].name
    for i, name in enumerate(new_names):
        old = name if name in old_ids else by_id.get(patch_ids.get(name, ""))
        if old is None and same_length:
            old = old_order[i]
        owner = stack.pr_of(old).name if old else previous
        owners[owner].append(name)
        previous = owner
    return owners


def regroup(stack: Stack, owners: dict[str, list[str]], patches: list[Patch]) -> Stack:
    """``stack`` with each PR's patches replaced by ``owners`` (PRs left empty are dropped)."""
    by_name = {p.name: p for p in patches}
    kept = {name for name, names in owners.items() if names}
    prs = [
        PR(
            pr.name,
            pr.branch,
            pr.title,
            pr.summary,
            tuple(d for d in pr.depends if d in kept),
            tuple(by_name[n] for n in owners[pr.name]),
            pr.issue,
        )
        for pr in stack.prs
        if pr.name in kept
    ]
    regrouped = Stack(tuple(prs))
    if [p.name for p in regrouped.patches] != [p.name for p in patches]:
        raise KitError(
            "the commits no longer keep each PR's patches together in the stack's order; "
            "reorder them in the checkout (or the PRs in patches/stack.toml) and refresh again"
        )
    return regrouped
