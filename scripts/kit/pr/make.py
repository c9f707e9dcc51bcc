"""`make pr`: for every PR of the stack, its branch, patches and body (and issue text).

Each PR's branch is the base plus what it depends on plus its own patches, committed under
the contributor's identity and today's date (never the kit's placeholder). The body is
built from the last full, green `make test` of this very series and from the environment
matrix (`make envs`); `make pr` refuses in one line when either is missing or stale.
"""

from __future__ import annotations

import shutil
import time

from kit.checkout.target import Target, require_stack_applied, require_target, sdist_history_note
from kit.evidence.current import check_base, check_envs, check_results
from kit.git import run as git
from kit.git.format import for_review
from kit.log import KitError, info, warn
from kit.options import Options
from kit.paths import Kit
from kit.pr import body
from kit.pr.body import add_fixes, full_text, reproducer_lines
from kit.pr.branches import branch_commits, check_branch, diff_size, write_branch
from kit.pr.commands import print_issue_commands, print_pr_commands
from kit.pr.identity import identity
from kit.series import issue_text
from kit.series.pin import Pin
from kit.series.stack import load_stack


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
    repro = reproducer_lines(kit, stack)
    olds = {one.branch: check_branch(target.repo, one.branch) for one in stack.prs}  # before anything moves
    out = kit.build / "pr"
    if out.exists():
        shutil.rmtree(out)  # the kit's own output, rebuilt from scratch each time
    repo = target.repo
    info(f"PR commits by {who}, dated {date}")
    for one in stack.prs:
        folder = out / one.name
        folder.mkdir(parents=True)
        tip = branch_commits(repo, target.base, stack.patches_for(one.name), who, date)
        write_branch(repo, one.branch, tip, olds[one.branch], f"make pr: PR {one.name} as {who.name}")
        start = f"{tip}~{len(one.patches)}"
        for_review(repo, start, tip, folder)
        size = diff_size(repo, start, tip)
        text = full_text(kit, pin, stack, one, base_ids, envs_stamp, repro)
        (folder / "PR_BODY.md").write_text(text)
        lines = body.line_count(text)
        over = f" (over {body.MAX_LINES}: shorten its summary)" if lines > body.MAX_LINES else ""
        info(f"PR {one.name}: PR_BODY.md, {lines} lines (the environment table folded){over}")
        if words := body.kit_words(text):
            warn(f"PR {one.name}: PR_BODY.md uses the kit's words {', '.join(words)}: reword its summary")
        if one.issue:
            text = issue_text.load(kit.root / one.issue)
            # The environments where the reproducer, on the release, raised the issue's error.
            versions = [
                f"flowjax {pin.version}, Python {row.get('python')}, jax {row.get('jax')}, "
                f"equinox {row.get('equinox')}"
                for row in envs_stamp.get("rows", [])
                if "error" not in row and row["reproducer_pin"].get(one.name) == text.error
            ]
            versions = list(dict.fromkeys(versions))  # rows may differ only in pytest
            (folder / "ISSUE.md").write_text(issue_text.render(text, versions))
            info(f"PR {one.name}: ISSUE.md, a reproducer of {issue_text.lines_of_code(text)} lines")
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


def _read_ids(kit: Kit, target: Target) -> set[str]:
    sha = git.rev(target.repo, target.base) or ""
    path = kit.build / "nodeids" / f"base-nodeids-{sha[:12]}.txt"
    if not path.is_file():
        raise KitError("the base's test ids are missing: run `make test`")
    return set(path.read_text().splitlines())


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make pr` (``AUTHOR=``, ``ISSUE=``)."""
    pr(kit, pin, require_target(kit, pin, opts.upstream_ref), opts)
    return 0
