"""`make pr`: for every PR of the stack, its branch, patches and body (and issue text).

Each PR's branch is the base plus what it depends on plus its own patches, committed under
the contributor's identity and today's date (never the kit's placeholder). The body is
built from the last full, green `make test` of this very series and from the environment
matrix (`make envs`); `make pr` refuses in one line when either is missing or stale.
"""

from __future__ import annotations

import re
import shlex
import shutil
import time
from pathlib import Path

from kit import envs, issue, prbody, proofs
from kit.config import Pin
from kit.git import run as git
from kit.git.format import for_review
from kit.git.patch import Who, am_all
from kit.git.run import Identity
from kit.git.worktree import scratch_worktree
from kit.log import KitError, info, warn
from kit.options import Options, child_env
from kit.paths import Kit
from kit.series import Patch
from kit.stack import PR, Stack, load_stack
from kit.stamp import read_stamp, series_digest
from kit.state import Target, applied_key, require_stack_applied, sdist_history_note, uncommitted

_IDENTITY = re.compile(r"^\s*(?P<name>[^<>]+?)\s*<(?P<email>[^<>@\s]+@[^<>\s]+)>\s*$")


def identity(repo: Path, pin: Pin, author: str) -> tuple[str, str]:
    """The contributor: ``AUTHOR="Name <mail>"`` (``author``), else git's user.name and user.email.

    Raises:
        KitError: If there is none, it is malformed, or it is the kit's own placeholder.
    """
    if author:
        found = _IDENTITY.match(author)
        if not found:
            raise KitError(f'AUTHOR={author!r} is not of the form "Name <mail@example.com>"')
        name, email = found.group("name"), found.group("email")
    else:
        name = git.run(repo, "config", "--get", "user.name", check=False, env=child_env()).stdout.strip()
        email = git.run(repo, "config", "--get", "user.email", check=False, env=child_env()).stdout.strip()
        if not (name and email):
            raise KitError(
                'no contributor identity: set AUTHOR="Name <mail>" or git config user.name and user.email; '
                "PR commits carry your name, never the kit's"
            )
    kit_emails = {
        git.KIT_EMAIL,
        _IDENTITY.match(pin.author).group("email") if _IDENTITY.match(pin.author) else "",
    }
    if email in kit_emails:
        raise KitError(f'{email} is the kit\'s placeholder, not a contributor: set AUTHOR="Name <mail>"')
    return name, email


def check_base(kit: Kit, target: Target) -> None:
    """The last `make test` ran on the checkout's base, and that ref has not moved since.

    Raises:
        KitError: If the results name no base, another base, or a ref that has moved.
    """
    stamp = read_stamp(kit.results / "stamp.json")
    if stamp is None:
        return  # check_results says what is missing
    ref, proven = stamp.get("base_ref"), stamp.get("base_commit")
    if not (ref and proven):
        raise KitError("the test results name no base (an older kit made them): run `make test`")
    if target.mode == "clone" and (now := git.rev(target.repo, ref)) != proven:
        raise KitError(
            f"{ref} has moved since its proof ({proven[:7]} -> {now[:7] if now else 'gone'}): "
            f"run `make apply UPSTREAM_REF={ref}` and `make test`, then `make pr`"
        )
    if proven != target.base:
        raise KitError(
            f"the test results were proven on {stamp.get('base_label', ref)}, but the checkout's base is "
            f"{target.describe()}: run `make test`"
        )


def check_results(kit: Kit, target: Target) -> dict:
    """The stamp of the last `make test`, if it is full, green and of this series.

    Raises:
        KitError: Saying which of these it is not.
    """
    stamp = read_stamp(kit.results / "stamp.json")
    if stamp is None or not (kit.results / "flowjax.xml").is_file():
        raise KitError(
            f"no test results in {kit.results}: run `make test` first; the PR bodies are built from them"
        )
    if stamp.get("series") != series_digest(kit):
        raise KitError(
            "the test results are older than the patches (the series changed since): run `make test`"
        )
    if stamp.get("tree") != git.tree(target.repo):
        raise KitError(f"the test results were not made from {target.repo} as it is now: run `make test`")
    if not stamp.get("upstream_suite"):
        raise KitError("the last results come from `make test-fast` (no upstream suite): run `make test`")
    if stamp.get("exit_code") != 0:
        raise KitError("the last `make test` failed: fix it and run it again before `make pr`")
    return stamp


def check_envs(kit: Kit) -> dict:
    """The environment matrix's stamp, if present, current, and clean.

    Raises:
        KitError: If it is missing, stale, or has a row where the series fails while
            upstream's own tests of the same modules pass (or the fix's reproducer fails).
    """
    stamp = read_stamp(kit.results / "envs.json")
    if stamp is None or not (kit.results / "envs.md").is_file():
        raise KitError("no environment matrix: run `make envs` (the PR bodies show it)")
    if stamp.get("series") != series_digest(kit):
        raise KitError(
            "the environment matrix is stale (made for another version of the series): run `make envs`"
        )
    for row in stamp.get("rows", []):
        problem = envs.fault(row)
        if problem:
            raise KitError(problem)
    return stamp


def _branch_commits(repo: Path, base: str, patches: list[Patch], who: tuple[str, str], date: str) -> str:
    """Commit ``patches`` on ``base`` as ``who`` (author and committer) at ``date``; the tip."""
    contributor = Who(Identity(*who), date=date, authors=True)
    with scratch_worktree(repo, base) as work:
        if failure := am_all(work, [p.path for p in patches], contributor):
            raise KitError(f"{failure.patch.name} does not apply on {base}: {failure.detail}")
        return git.out(work, "rev-parse", "HEAD")


def write_branch(repo: Path, branch: str, tip: str) -> None:
    """Point ``branch`` at ``tip``, if it is new or holds only what the kit last put there.

    Raises:
        KitError: If the branch holds other commits (yours): nothing is overwritten.
    """
    old = git.rev(repo, f"refs/heads/{branch}")
    if old is not None and old != git.get_config(repo, applied_key(branch)):
        raise KitError(
            f"branch {branch} in {repo} has commits the kit did not write; rename it or "
            f"`make refresh` them first, `make pr` will not overwrite it"
        )
    if git.current_branch(repo) == branch:
        if uncommitted(repo):
            raise KitError(
                f"{branch} is checked out in {repo} with local changes; commit or stash them first"
            )
        git.run(repo, "reset", "--quiet", "--keep", tip)
    else:
        git.run(repo, "branch", "--force", branch, tip)
    git.run(repo, "config", "--local", applied_key(branch), tip)


def diff_size(repo: Path, start: str, tip: str) -> tuple[int, int, int]:
    """(files, insertions, deletions) of ``start..tip``."""
    stat = git.out(repo, "diff", "--shortstat", f"{start}..{tip}")

    def number(word: str) -> int:
        found = re.search(rf"(\d+) {word}", stat)
        return int(found.group(1)) if found else 0

    return number("file"), number("insertion"), number("deletion")


def body(
    kit: Kit,
    pin: Pin,
    stack: Stack,
    pr: PR,
    base_ids: set[str],
    envs_stamp: dict,
    repro: dict[str, str],
) -> str:
    """PR_BODY.md for one PR (see kit.prbody: one line per piece of its own evidence), and its bases."""
    text = prbody.render(prbody.facts(kit, pin, stack, pr, base_ids, envs_stamp, repro))
    return proofs.add_bases(text, proofs.proven(kit, series_digest(kit)))


def _reproducer_lines(kit: Kit, stack: Stack) -> dict[str, str]:
    """What `make test` printed for each issue reproducer, from its log in results/."""
    out = {}
    for pr in stack.prs:
        log = kit.results / f"reproducer-{pr.name}.txt"
        if pr.issue and log.is_file():
            out[pr.name] = log.read_text().strip()
    return out


def pr(kit: Kit, pin: Pin, target: Target, opts: Options) -> None:
    """Write build/pr/<name>/ for every PR; point each PR's branch at it; print how to open them."""
    stack = load_stack(kit.patches, pin.branch)
    fixes = opts.issue_number
    check_base(kit, target)
    require_stack_applied(target, pin, stack.patches)
    check_results(kit, target)
    envs_stamp = check_envs(kit)
    who = identity(target.repo, pin, opts.author)
    date = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    base_ids = _read_ids(kit, target)
    repro = _reproducer_lines(kit, stack)
    out = kit.build / "pr"
    if out.exists():
        shutil.rmtree(out)  # the kit's own output, rebuilt from scratch each time
    repo = target.repo
    info(f"PR commits by {who[0]} <{who[1]}>, dated {date}")
    for one in stack.prs:
        folder = out / one.name
        folder.mkdir(parents=True)
        tip = _branch_commits(repo, target.base, stack.patches_for(one.name), who, date)
        write_branch(repo, one.branch, tip)
        start = f"{tip}~{len(one.patches)}"
        for_review(repo, start, tip, folder)
        size = diff_size(repo, start, tip)
        text = body(kit, pin, stack, one, base_ids, envs_stamp, repro)
        (folder / "PR_BODY.md").write_text(text)
        lines = prbody.line_count(text)
        over = f" (over {prbody.MAX_LINES}: shorten its summary)" if lines > prbody.MAX_LINES else ""
        info(f"PR {one.name}: PR_BODY.md, {lines} lines (the environment table folded){over}")
        if words := prbody.kit_words(text):
            warn(f"PR {one.name}: PR_BODY.md uses the kit's words {', '.join(words)}: reword its summary")
        if one.issue:
            text = issue.load(kit.root / one.issue)
            # The environments where the reproducer, on the release, raised the issue's error.
            versions = [
                f"flowjax {pin.version}, Python {row.get('python')}, jax {row.get('jax')}, "
                f"equinox {row.get('equinox')}"
                for row in envs_stamp.get("rows", [])
                if "error" not in row and row["reproducer_pin"].get(one.name) == text.error
            ]
            versions = list(dict.fromkeys(versions))  # rows may differ only in pytest
            (folder / "ISSUE.md").write_text(issue.render(text, versions))
            info(f"PR {one.name}: ISSUE.md, a reproducer of {issue.lines_of_code(text)} lines")
            if fixes:
                add_fixes(folder / "PR_BODY.md", fixes)
                info(f'PR {one.name}: its body ends "Fixes #{fixes}."')
        info(f"PR {one.name}: branch {one.branch}, {size[0]} file(s) +{size[1]} -{size[2]}; wrote {folder}")
    print_issue_commands(kit, pin, stack, fixes)
    if target.mode == "sdist":
        info(f"wrote the bodies and patches for review; nothing to push from here: {sdist_history_note(pin)}")
        return
    info(f"branches on {target.describe()}, where `make test` proved them")
    print_pr_commands(kit, pin, stack, repo)


def add_fixes(body_file: Path, number: str) -> None:
    """End a fix PR's body with GitHub's closing keyword for its issue."""
    body_file.write_text(body_file.read_text().rstrip("\n") + f"\n\nFixes #{number}.\n")


def print_issue_commands(kit: Kit, pin: Pin, stack: Stack, fixes: str | None) -> None:
    """How to file each issue text (before the PRs); then ``ISSUE=`` puts "Fixes #n" into the fix's body."""
    for one in stack.prs if fixes is None else []:
        if one.issue:
            title = issue.load(kit.root / one.issue).title
            body_file = kit.build / "pr" / one.name / "ISSUE.md"
            info(f"file the issue first (PR {one.name} fixes it):")
            quoted = shlex.quote(title), shlex.quote(str(body_file))
            print(f"  gh issue create --repo {pin.github} --title {quoted[0]} --body-file {quoted[1]}")
            print(
                f'  make pr ISSUE=<the number gh prints>   # PR {one.name}\'s body then ends "Fixes #<number>."'
            )


def print_pr_commands(kit: Kit, pin: Pin, stack: Stack, repo: Path) -> None:
    """How to push each PR's branch and open it; the kit itself never pushes."""
    out = kit.build / "pr"
    info("the kit never pushes; to open the PRs, run:")
    for one in stack.prs:
        print(f"  git -C {shlex.quote(str(repo))} push <your-fork-remote> {one.branch}")
        print(
            f"  gh pr create --repo {pin.github} --base main --head <your-github-user>:{one.branch} "
            f"--title {shlex.quote(one.title)} --body-file {shlex.quote(str(out / one.name / 'PR_BODY.md'))}"
        )


def _read_ids(kit: Kit, target: Target) -> set[str]:
    sha = git.rev(target.repo, target.base) or ""
    path = kit.build / "nodeids" / f"base-nodeids-{sha[:12]}.txt"
    if not path.is_file():
        raise KitError("the base's test ids are missing: run `make test`")
    return set(path.read_text().splitlines())
