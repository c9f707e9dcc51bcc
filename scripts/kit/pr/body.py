"""PR_BODY.md: what a maintainer reads in a minute, in upstream's words, with only this PR's evidence.

A body is the PR's summary (from stack.toml), then one line per piece of evidence that is
about this PR and says something (no zero counts), then what it depends on, then the
environment table folded in ``<details>``. Each piece of evidence is one function of
:data:`EVIDENCE`, returning its line or None: add a line by adding a function there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kit.evidence import ledger
from kit.evidence.current import proven_runs, series_stamp
from kit.log import KitError
from kit.paths import Kit
from kit.proof import selection
from kit.proof.docs import read_doctest_summary
from kit.proof.tally import Case, read_cases
from kit.series.pin import Pin
from kit.series.stack import PR, Stack

# Words of the kit's, which mean nothing to a maintainer; a body must not use them.
KIT_WORDS = ("series", "sentinel", "sentinels", "stack", "pin", "kit", "make test", "make envs", "upstream")
MAX_LINES = 30

# Other environments run every PR together; the files a line counts are edited by this PR alone.
TOGETHER = " (run together with my other open PRs, which do not edit these files)"


@dataclass(frozen=True)
class Env:
    """One environment of `make envs` as this PR's evidence: its versions and its cases."""

    name: str
    versions: dict[str, str]
    main: list[Case]  # the cases run on the release
    patched: list[Case]  # the same files with every PR applied

    @property
    def words(self) -> str:
        v = self.versions
        return f"Python {v.get('python', '?')} / jax {v.get('jax', '?')}"


@dataclass(frozen=True)
class Facts:
    """Everything a body is written from."""

    kit: Kit
    pin: Pin
    stack: Stack
    pr: PR
    new: list[Case]  # the test cases this PR adds, from its own proof
    proof: list[Case]  # every case of its own proof (this PR and what it depends on, on the release)
    alone: bool  # whether that proof ran this PR alone (else: with everything it depends on)
    only_mine: set[str]  # test files no other PR edits
    envs: list[Env]
    envs_made: str
    reproducer: str | None
    full_suite: list[Case]


def edited_files(pr: PR) -> set[str]:
    """The paths ``pr``'s patches change."""
    found: set[str] = set()
    for patch in pr.patches:
        found |= set(re.findall(r"^diff --git a/(\S+) b/", patch.path.read_text(), re.MULTILINE))
    return found


def own_new_cases(kit: Kit, stack: Stack, pr: PR, base_ids: set[str]) -> tuple[list[Case], list[Case], bool]:
    """(the cases ``pr`` adds, every case of its proof, whether that proof is its own run).

    Its proof runs it with what it depends on (a PR whose closure is the whole set is proven
    by the run of everything); the cases its dependencies add (from their own proofs) are
    not its own.

    Raises:
        KitError: If the results of its proof are missing.
    """
    alone = pr in stack.provable_alone()
    xml = kit.results / (f"pr-{pr.name}.xml" if alone else "flowjax.xml")
    if not xml.is_file():
        raise KitError(f"no test results for PR {pr.name} ({xml.name}): run `make test`")
    cases = read_cases(xml)
    new, _ = selection.split(cases, base_ids)
    theirs: set[str] = set()
    for dep in stack.closure(pr.name):
        dep_xml = kit.results / f"pr-{dep.name}.xml"
        if dep.name != pr.name and dep_xml.is_file():
            theirs |= {c.nodeid for c in selection.split(read_cases(dep_xml), base_ids)[0]}
    return [c for c in new if c.nodeid not in theirs], cases, alone


def read_envs(kit: Kit, stamp: dict) -> list[Env]:
    """The built environments of `make envs` whose per-case results are on disk."""
    found = []
    for row in stamp.get("rows", []):
        folder = kit.results / "envs" / row["env"]
        if "error" in row or not (folder / "pin.xml").is_file() or not (folder / "stack.xml").is_file():
            continue
        versions = {k: str(row.get(k, "?")) for k in ("python", "jax", "equinox", "pytest")}
        found.append(
            Env(row["env"], versions, read_cases(folder / "pin.xml"), read_cases(folder / "stack.xml"))
        )
    return found


def _failed(cases: list[Case]) -> int:
    return sum(c.outcome == "failed" for c in cases)


def _n(count: int, word: str, plural: str | None = None) -> str:
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _under(envs: list[Env]) -> str:
    """``pytest 9.2.0 on Python 3.13.0 / jax 0.12.0 and Python 3.11.7 / jax 0.10.2``, grouped by pytest."""
    by_pytest: dict[str, list[str]] = {}
    for env in envs:
        by_pytest.setdefault(env.versions["pytest"], []).append(env.words)
    return "; ".join(f"pytest {p} on {_and(list(dict.fromkeys(w)))}" for p, w in by_pytest.items())


def fixed_line(f: Facts) -> str | None:
    """Existing tests in files only this PR edits that fail on the release and pass with it."""
    fixes = []
    for env in f.envs:
        mine = [c for c in env.main if c.path in f.only_mine]  # on the release: all existing tests
        after = {c.nodeid: c.outcome for c in env.patched}
        still = [c for c in mine if after.get(c.nodeid, "failed") == "failed"]
        if _failed(mine) > len(still):
            fixes.append((env, _failed(mine), len(still)))
    if not fixes:
        return None
    counts = {(before, after) for _, before, after in fixes}
    if len(counts) == 1:
        before, after = counts.pop()
        where = _under([e for e, _, _ in fixes])
        return f"Under {where}: {_n(before, 'failure')} on main, {after} with this PR{TOGETHER}."
    return (
        "Under "
        + "; ".join(
            f"pytest {e.versions['pytest']} on {e.words}: {_n(b, 'failure')} on main, {a} with this PR"
            for e, b, a in fixes
        )
        + "."
    )


def local_line(f: Facts) -> str | None:
    """This PR's own proof on the release: the tests of what it changes, new ones included."""
    passed = [c for c in f.proof if c.outcome == "passed"]
    if not passed:
        return None
    failed = _failed(f.proof)
    locked = next((e for e in f.envs if e.name == "locked"), None)
    where = f" (pytest {locked.versions['pytest']}, {locked.words})" if locked else ""
    how = "with only this change" if f.alone and not f.pr.depends else "with the PRs it depends on"
    new = sum(c.outcome == "passed" for c in f.new)
    added = f", {new} of them new" if new else ""
    tail = f"; {_n(failed, 'fails', 'fail')}" if failed else ""
    return f"On {f.pin.version} {how}{where}: {len(passed)} tests of the code it touches pass{added}{tail}."


def envs_new_line(f: Facts) -> str | None:
    """This PR's new tests in the other environments."""
    if not f.new:
        return None
    ids = {c.nodeid for c in f.new}
    ok, bad = [], []
    for env in f.envs:
        if env.name == "locked":
            continue
        mine = [c for c in env.patched if c.nodeid in ids]
        if len(mine) == len(ids) and not _failed(mine):
            ok.append(env)
        elif mine:
            bad.append(f"{_failed(mine)} of them fail under pytest {env.versions['pytest']} on {env.words}")
    parts = [f"also pass under {_under(ok)}"] if ok else []
    return ("Its new tests " + "; ".join(parts + bad) + ".") if parts or bad else None


def full_suite_line(f: Facts) -> str | None:
    """The whole suite, as CI runs it, with every PR of the set applied."""
    passed = sum(c.outcome == "passed" for c in f.full_suite)
    if not passed or _failed(f.full_suite):
        return None
    return f"The full suite passes ({passed} tests) with this and my other open PRs applied together."


def doctest_line(f: Facts) -> str | None:
    """`sphinx-build -b doctest`, for a PR that changes docs/ or docstrings."""
    if not any(p.startswith(("docs/", "flowjax/")) for p in edited_files(f.pr)):
        return None
    out = f.kit.results / (f"pr-{f.pr.name}-doctest" if f.alone else "doctest") / "output.txt"
    if not out.is_file():
        return None
    tally = read_doctest_summary(out)
    failed = f", **{tally.failed} failed**" if tally.failed else ""
    return f"`sphinx-build -b doctest` over docs/: {tally.passed} passed{failed}."


def reproducer_line(f: Facts) -> str | None:
    """The issue's example, on the release and with this PR."""
    if not f.reproducer:
        return None
    # As `make test` logs it: "on <base>: <error>; with this PR: <what it printed>".
    found = re.match(r"on \S+: (.*); with this PR: (.*)$", f.reproducer)
    if not found:
        return f"The example from the issue: {f.reproducer}."
    return f"The example from the issue raises `{found.group(1)}` on {f.pin.version}; with this PR: {found.group(2)}."


def streams_line(f: Facts) -> str | None:
    """This PR's new tests under JAX's other PRNGs (`make streams`)."""
    stamp = series_stamp(f.kit, "streams")
    ids = {c.nodeid for c in f.new}
    if not stamp or not ids or not ids <= set(stamp.get("cases", [])):
        return None
    others = [r for r in stamp.get("rows", []) if r.get("setting") != "default"]
    failing = [r for r in others if ids & set(r.get("failed_ids", []))]
    words = _and([f"`{r['env']}`" for r in others]) if others else ""
    if not others:
        return None
    if not failing:
        return f"Its new tests also pass with JAX's other random number generators: {words}."
    return "Some of its new tests fail under " + _and([f"`{r['env']}`" for r in failing]) + "."


def flake_line(f: Facts) -> str | None:
    """This PR's new tests over fresh random streams (`make flake`)."""
    stamp = series_stamp(f.kit, "flake")
    ids = {c.nodeid for c in f.new}
    rates = stamp.get("rates", {}) if stamp else {}
    ran = [rates[i] | {"id": i} for i in sorted(ids) if i in rates and rates[i].get("runs")]
    if not ran:
        return None
    fewest = min(r["runs"] for r in ran)
    share = "" if len(ran) == len(ids) else f" ({len(ran)} of the {len(ids)} new tests)"
    failing = [r for r in ran if r["failures"]]
    if not failing:
        return (
            f"Its new tests{share}: 0 failures in {fewest} random streams per test "
            "(every `jax.random.key` seed offset)."
        )
    worst = max(failing, key=lambda r: r["failures"] / r["runs"])
    return (
        f"Its new tests{share} over {fewest} random streams per test: {_n(len(failing), 'test')} failed at least once "
        f"(worst: `{worst['id'].split('::')[-1]}`, {worst['failures']} of {worst['runs']})."
    )


def time_line(f: Facts) -> str | None:
    """What the new tests add to the suite's run time, in one session as CI runs it."""
    ids = {c.nodeid for c in f.new}
    mine = sum(c.seconds for c in f.full_suite if c.nodeid in ids)
    rest = sum(c.seconds for c in f.full_suite if c.nodeid not in ids)
    if not ids or not mine or not rest:
        return None
    return f"The new tests take {mine:.1f}s, {100 * mine / rest:.1f}% of the rest of the suite's time."


def depends_line(f: Facts) -> str | None:
    """What must be merged first."""
    if not f.pr.depends:
        return None
    titles = _and([f'"{f.stack.get(d).title}"' for d in f.pr.depends])
    return f"Depends on {titles}: merge that first; until then this branch carries its commits too."


# The evidence, in the order it is read. Each returns its line, or None when it has nothing to say.
EVIDENCE: list[Callable[[Facts], str | None]] = [
    fixed_line,
    local_line,
    envs_new_line,
    full_suite_line,
    doctest_line,
    reproducer_line,
    streams_line,
    flake_line,
    time_line,
]


def evidence_lines(f: Facts) -> list[str]:
    """The body's evidence, one line each, in :data:`EVIDENCE` order."""
    return [line for make in EVIDENCE if (line := make(f))]


def envs_table(f: Facts) -> list[str]:
    """Per environment: the existing tests in the files only this PR edits, on main and with it; its new tests.

    Files another PR edits too are left out: their change on main would not be this PR's.
    """
    ids = {c.nodeid for c in f.new}
    paths = {c.path for env in f.envs for c in env.main if c.path in f.only_mine}
    if not f.envs or not (ids or paths):
        return []
    head = ["Python", "jax", "equinox", "pytest"]
    head += ["existing tests it edits, main", f"with all {len(f.stack.prs)} PRs"] if paths else []
    head += ["its new tests"] if ids else []
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for env in f.envs:
        v = env.versions
        cells = [v["python"], v["jax"], v["equinox"], v["pytest"]]
        if paths:
            before = [c for c in env.main if c.path in paths]
            existing = {c.nodeid for c in before}
            cells += [_cell(before), _cell([c for c in env.patched if c.nodeid in existing])]
        cells += [_cell([c for c in env.patched if c.nodeid in ids])] if ids else []
        rows.append("| " + " | ".join(cells) + " |")
    return ["<details><summary>Tests by environment</summary>", "", *rows, "", "</details>"]


def _cell(cases: list[Case]) -> str:
    broken = [c for c in cases if c.collection_error]
    if broken:
        return f"{len(broken)} files fail to import"
    failed = _failed(cases)
    passed = sum(c.outcome == "passed" for c in cases)
    if not cases:
        return "-"
    return ", ".join([f"{passed} pass"] * bool(passed) + [f"**{failed} fail**"] * bool(failed))


def render(f: Facts) -> str:
    """The body: summary, evidence, dependencies, the folded environment table."""
    lines = [f.pr.summary.strip(), ""] if f.pr.summary.strip() else []
    evidence = evidence_lines(f)
    if evidence:
        lines += ["Tested:", "", *(f"- {line}" for line in evidence), ""]
    if depends := depends_line(f):
        lines += [depends, ""]
    lines += envs_table(f)
    return "\n".join(lines).rstrip() + "\n"


def facts(
    kit: Kit, pin: Pin, stack: Stack, pr: PR, base_ids: set[str], envs_stamp: dict, repro: dict[str, str]
) -> Facts:
    """Read what the body is written from."""
    new, proof, alone = own_new_cases(kit, stack, pr, base_ids)
    others = set().union(*(edited_files(p) for p in stack.prs if p.name != pr.name))
    full = kit.results / "flowjax.xml"
    return Facts(
        kit=kit,
        pin=pin,
        stack=stack,
        pr=pr,
        new=new,
        proof=proof,
        alone=alone,
        only_mine=edited_files(pr) - others,
        envs=read_envs(kit, envs_stamp),
        envs_made=str(envs_stamp.get("made", "")),
        reproducer=repro.get(pr.name),
        full_suite=read_cases(full) if full.is_file() else [],
    )


def kit_words(text: str) -> list[str]:
    """The kit's words in ``text`` (whole words, any case)."""
    return [w for w in KIT_WORDS if re.search(rf"\b{re.escape(w.strip())}\b", text, re.IGNORECASE)]


def line_count(text: str) -> int:
    """Lines of a body as a reader sees them: a folded ``<details>`` block is its one summary line."""
    folded = re.sub(r"<details>.*?</details>", "<details>", text, flags=re.DOTALL)
    return len(folded.splitlines())


def full_text(
    kit: Kit,
    pin: Pin,
    stack: Stack,
    pr: PR,
    base_ids: set[str],
    envs_stamp: dict,
    repro: dict[str, str],
) -> str:
    """PR_BODY.md for one PR (one line per piece of its own evidence, see `render`), and its bases."""
    text = render(facts(kit, pin, stack, pr, base_ids, envs_stamp, repro))
    return ledger.add_bases(text, proven_runs(kit))


def reproducer_lines(kit: Kit, stack: Stack) -> dict[str, str]:
    """What `make test` printed for each issue reproducer, from its log in results/."""
    out = {}
    for pr in stack.prs:
        log = kit.results / f"reproducer-{pr.name}.txt"
        if pr.issue and log.is_file():
            out[pr.name] = log.read_text().strip()
    return out


def add_fixes(body_file: Path, number: str) -> None:
    """End a fix PR's body with GitHub's closing keyword for its issue."""
    body_file.write_text(body_file.read_text().rstrip("\n") + f"\n\nFixes #{number}.\n")
