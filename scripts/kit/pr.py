"""`make pr`: the series as format-patch files and a PR body built from the last real runs."""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from pathlib import Path

from kit import gitutil
from kit.apply import Target, commits_above, expected_trees, uncommitted
from kit.config import Kit, Pin, new_test_files
from kit.docs import read_doctest_summary
from kit.log import KitError, info
from kit.series import Patch, read_series
from kit.sources import format_patches
from kit.stamp import read_stamp, series_digest
from kit.tally import Case, read_cases

# Optional evidence: included when present and made from the current series.
OPTIONAL = {"matrix": "Compatibility across releases", "mutation-report": "Mutation report"}


def message_of(patch: Patch) -> tuple[str, str]:
    """Subject and body of a patch's commit message, without trailers."""
    text = patch.path.read_text()
    head, _, rest = text.partition("\n\n")
    body = rest.split("\n---\n", 1)[0]
    lines = [line for line in body.splitlines() if not re.match(r"^[A-Z][\w-]+: \S", line)]
    return patch.subject, "\n".join(lines).strip()


def diffstat(patch: Patch) -> list[tuple[str, str]]:
    """(path, lines changed) for each file in a patch's diffstat."""
    stat = patch.path.read_text().split("\n---\n", 1)[-1].split("\n\n", 1)[0]
    return re.findall(r"^ (\S+)\s+\|\s+(\d+)", stat, re.M)


def bug_links(patches: list[Patch]) -> list[str]:
    """The `Bug:` trailer URLs of the series, in order, without repeats."""
    links = [m for p in patches for m in re.findall(r"^Bug: (\S+)$", p.path.read_text(), re.M)]
    return list(dict.fromkeys(links))


def _humanize(function: str) -> str:
    return function.removeprefix("test_").replace("_", " ")


def test_table(cases: list[Case]) -> list[str]:
    """One row per test function: the cases that passed, and any that did not."""
    by_function: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        by_function[case.function].append(case)
    rows = ["| check | passed | not passed |", "|---|---|---|"]
    for function, group in by_function.items():
        passed = [c.param or "yes" for c in group if c.outcome == "passed"]
        others = [
            f"{c.param or function}: {c.outcome}" + (f" ({c.message})" if c.message else "")
            for c in group
            if c.outcome != "passed"
        ]
        rows.append(f"| {_humanize(function)} | {', '.join(passed) or '-'} | {'; '.join(others) or '-'} |")
    return rows


def _count(cases: list[Case]) -> str:
    n = defaultdict(int)
    for case in cases:
        n[case.outcome] += 1
    seconds = sum(c.seconds for c in cases)
    parts = [
        f"{n[k]} {k}" for k in ("passed", "failed", "xfailed", "skipped") if n[k] or k in ("passed", "failed")
    ]
    return f"{', '.join(parts)} ({seconds:.1f}s)"


def body(kit: Kit, pin: Pin, target: Target, patches: list[Patch], stamp: dict) -> str:
    """PR_BODY.md: title, summary, changes per patch, and the evidence of the last runs."""
    cases = read_cases(kit.results / "flowjax.xml")
    new_files = {Path(f).stem for f in new_test_files(pin)}
    new = [c for c in cases if c.file in new_files]
    upstream = [c for c in cases if c.file not in new_files]
    lines = [f"# {pin.title}", ""]
    links = bug_links(patches)
    lines += [
        "Addresses " + ", ".join(links) + ": do FlowJAX distributions support reparameterized "
        "(pathwise) gradients? Yes, with exceptions; this PR records which, in tests and docs.",
        "",
        "## Changes",
        "",
    ]
    for patch in patches:
        subject, text = message_of(patch)
        files = ", ".join(f"`{path}` (+{n})" for path, n in diffstat(patch))
        lines += [f"- **{subject}**: {files}", "", "  <details><summary>commit message</summary>", ""]
        lines += [f"  {line}".rstrip() for line in text.splitlines()]
        lines += ["", "  </details>", ""]
    lines += [
        "## Evidence",
        "",
        f"From the last `make test` of this series on FlowJAX {stamp['version']} "
        f"(series sha256 `{stamp['series'][:12]}`, tree `{stamp['tree'][:12]}`; "
        f"jaxtyping + beartype checks on, as in upstream's addopts):",
        "",
        f"- New tests ({', '.join(sorted(new_files))}): {_count(new)}",
        f"- Upstream's suite in the same pytest session (order: {stamp['order']}): {_count(upstream)}",
    ]
    doctest = read_doctest_summary(kit.results / "doctest" / "output.txt")
    lines.append(
        f"- `sphinx-build -b doctest` over docs/ with upstream's conf.py: "
        f"{doctest.passed} doctests passed, {doctest.failed} failed"
    )
    lines += ["", "### What the new tests establish", "", *test_table(new), ""]
    digest = series_digest(kit)
    for name, title in OPTIONAL.items():
        report, made = kit.results / f"{name}.md", read_stamp(kit.results / f"{name}.json")
        if report.is_file() and made and made.get("series") == digest:
            lines += [f"### {title}", "", report.read_text().strip(), ""]
        else:
            lines += [f"### {title}", "", f"Not run for this series (`make {name}`).", ""]
    return "\n".join(lines).rstrip() + "\n"


def _check_series_applied(kit: Kit, target: Target, patches: list[Patch]) -> None:
    repo = target.repo
    if changed := uncommitted(repo):
        raise KitError(f"{repo} has uncommitted changes ({changed[0]}): commit and `make refresh` first")
    if gitutil.current_branch(repo) != target.branch:
        raise KitError(f"{repo} is not on {target.branch}; run `make apply` first")
    commits = commits_above(repo, target.base, "HEAD")
    trees = [gitutil.out(repo, "rev-parse", f"{c}^{{tree}}") for c in commits]
    if trees != expected_trees(repo, target.base, patches) or len(trees) != len(patches):
        raise KitError(
            f"{target.branch} in {repo} is not exactly patches/series: "
            "run `make refresh` (keep the checkout's commits) or `make apply` (take the patches)"
        )


def _check_results(kit: Kit, target: Target) -> dict:
    stamp = read_stamp(kit.results / "stamp.json")
    if stamp is None or not (kit.results / "flowjax.xml").is_file():
        raise KitError(
            f"no test results in {kit.results}: run `make test` first; the PR body is built from them"
        )
    if stamp.get("series") != series_digest(kit):
        raise KitError(
            "the test results are older than the patches (the series changed since): run `make test`"
        )
    if stamp.get("tree") != gitutil.out(target.repo, "rev-parse", "HEAD^{tree}"):
        raise KitError(f"the test results were not made from {target.repo} as it is now: run `make test`")
    if not stamp.get("upstream_suite"):
        raise KitError("the last results come from `make test-fast` (no upstream suite): run `make test`")
    if stamp.get("exit_code") != 0:
        raise KitError("the last `make test` failed: fix it and run it again before `make pr`")
    return stamp


def pr(kit: Kit, pin: Pin, target: Target) -> None:
    """Write build/pr/: one format-patch file per commit and PR_BODY.md; print how to push."""
    patches = read_series(kit.patches)
    _check_series_applied(kit, target, patches)
    stamp = _check_results(kit, target)
    out = kit.build / "pr"
    if out.exists():
        shutil.rmtree(out)  # the kit's own output, rebuilt from scratch each time
    out.mkdir(parents=True)
    files = format_patches(target.repo, target.base, "HEAD", out)
    (out / "PR_BODY.md").write_text(body(kit, pin, target, patches, stamp))
    info(f"wrote {len(files)} patch file(s) and PR_BODY.md to {out}")
    branch, repo = target.branch, target.repo
    info("the kit never pushes; to open the PR:")
    if target.mode == "clone":
        print(f"  git -C {repo} push <your-fork-remote> {branch}")
    else:
        print(f"  git -C <your-flowjax-clone> switch --create {branch} {pin.tag}")
        print(f"  git -C <your-flowjax-clone> am {out}/*.patch")
        print(f"  git -C <your-flowjax-clone> push <your-fork-remote> {branch}")
    print(
        f"  gh pr create --repo {pin.github} --base main --head <your-github-user>:{branch} "
        f'--title "{pin.title}" --body-file {out / "PR_BODY.md"}'
    )
    print(f"  (or open https://github.com/{pin.github}/compare/main...<your-github-user>:{branch}?expand=1)")
