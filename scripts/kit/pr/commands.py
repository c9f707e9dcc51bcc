"""The commands `make pr` prints: how to file the issue, push each branch and open each PR (the kit never pushes)."""

from __future__ import annotations

import shlex
from pathlib import Path

from kit.log import info
from kit.paths import Kit
from kit.series import issue_text
from kit.series.pin import Pin
from kit.series.stack import Stack


def print_issue_commands(kit: Kit, pin: Pin, stack: Stack, fixes: str | None) -> None:
    """How to file each issue text (before the PRs); then ``ISSUE=`` puts "Fixes #n" into the fix's body."""
    for one in stack.prs if fixes is None else []:
        if one.issue:
            title = issue_text.load(kit.root / one.issue).title
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
