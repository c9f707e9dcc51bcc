"""`make matrix`: apply the series to several FlowJAX releases and run the new tests on each.

Each row also records what the issue texts' reproducers do on the release itself (no patch
applied): the history of a bug, as evidence rather than prose.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from kit.checkout.fetch import released_versions
from kit.checkout.target import resolve_target
from kit.envs.venv import ensure_env
from kit.evidence.stamps import series_digest, write_result
from kit.git import run as git
from kit.log import KitError, info
from kit.ops import apply
from kit.options import Options, child_env
from kit.paths import Kit
from kit.proof import reproducer
from kit.proof.pytest import series_tests
from kit.proof.tally import Tally, first_failure, read_cases
from kit.releases.known import verified_sdist
from kit.series.pin import Pin
from kit.series.stack import load_stack


@dataclasses.dataclass
class Row:
    """One release's line in the matrix."""

    version: str
    applies: str
    tests: str
    seconds: float
    tally: Tally | None = None
    first_failure: str = ""
    reproducer: str = "-"


def default_versions(kit: Kit, pin: Pin) -> list[str]:
    """The pin and the newest release on the index (one entry when they are the same)."""
    newest = released_versions(kit.index_url, pin.package)[-1:]
    return list(dict.fromkeys([pin.version, *newest]))


def release_reproducers(kit: Kit, pin: Pin, python: Path, repo: Path, base: str) -> str:
    """Each issue text's reproducer, run as written on the release (``base``, no patch).

    Returns its error line, or the values it printed; one cell, PR names first when several.
    """
    texts = reproducer.issue_texts(kit, load_stack(kit.patches, pin.branch).prs)
    if not texts:
        return "-"
    outcomes = [
        (pr.name, reproducer.summary(reproducer.reproduce(python, text, repo, base).before))
        for pr, text in texts
    ]
    if len(outcomes) == 1:
        return outcomes[0][1]
    return "; ".join(f"{name}: {summary}" for name, summary in outcomes)


def run_one(kit: Kit, pin: Pin, version: str, python: Path) -> Row:
    """Apply the series to a checkout of ``version`` under build/matrix and run the new tests."""
    start = time.perf_counter()
    info(f"matrix: FlowJAX {version} ...")
    try:
        _, sha = verified_sdist(kit, pin, version)
    except KitError as e:
        return Row(version, f"not fetched: {e}", "-", time.perf_counter() - start)
    vpin = dataclasses.replace(pin, version=version, sha256=sha)
    vkit = dataclasses.replace(kit, checkout=kit.build / "matrix" / version, named_checkout=False)
    try:
        apply.apply(vkit, vpin)
        applies = "yes"
    except KitError as e:
        applies = f"no: {e}"
    tally, failure = None, ""
    try:
        target = resolve_target(vkit, vpin)
    except KitError as e:
        return Row(version, applies, f"not run: {e}", time.perf_counter() - start)
    reproducer = "-"
    if target is not None:
        try:
            reproducer = release_reproducers(kit, vpin, python, target.repo, target.base)
        except (KitError, OSError) as e:
            reproducer = f"error: {e}"
    if target is None or git.rev(target.repo, "HEAD") == target.base:
        tests = "not run (no patch applied)"
    else:
        # flowjax resolves to this checkout, ahead of the editable install of the pin.
        env = child_env(PYTHONPATH=str(vkit.checkout))
        xml = kit.results / f"matrix-{version}.xml"
        try:
            tally = series_tests(kit, vpin, python, target.repo, target.base, xml, env)
            tests = f"{tally.passed} passed, {tally.failed} failed, {tally.skipped} skipped"
            sentinels = xml.with_name(f"{xml.stem}-sentinels.xml")
            cases = read_cases(xml) + (read_cases(sentinels) if sentinels.is_file() else [])
            if failed := first_failure(cases):
                failure = f"{failed.name}: {failed.message[:100]}"
        except (KitError, OSError) as e:
            tests = f"error: {e}"
    row = Row(version, applies, tests, time.perf_counter() - start, tally, failure, reproducer)
    info(
        f"matrix: FlowJAX {version}: series {row.applies}; tests {row.tests}; "
        f"reproducer on the release: {row.reproducer}; {row.seconds:.0f}s"
    )
    return row


def markdown(rows: list[Row], pin: Pin) -> str:
    """The matrix as a Markdown table."""
    lines = [
        "The stack applied to each FlowJAX release, and the series' own tests plus the kit's "
        "sentinels run against it (jax and the rest from requirements.lock); and the issue "
        "texts' reproducers run as written on the release itself, without the stack.",
        "",
        "| FlowJAX | series applies | series tests + sentinels | first failure "
        "| issue reproducer on the release | time |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        pinned = " (pin)" if r.version == pin.version else ""
        failure = r.first_failure.replace("|", "\\|") or "-"
        reproducer = r.reproducer.replace("|", "\\|")
        lines.append(
            f"| {r.version}{pinned} | {r.applies} | {r.tests} | {failure} | {reproducer} | {r.seconds:.0f}s |"
        )
    return "\n".join(lines) + "\n"


def matrix(kit: Kit, pin: Pin, versions: list[str], python: Path) -> int:
    """Run the matrix, print it, write build/results/matrix.md; exit 1 if any row fails."""
    digest = series_digest(kit)  # the series these results will be of
    rows = [run_one(kit, pin, v, python) for v in versions]
    table = markdown(rows, pin)
    write_result(kit, "matrix", table, series=digest, versions=versions)
    print(table, end="", flush=True)
    info(f"matrix written to {kit.results / 'matrix.md'}")
    ok = all(r.applies == "yes" and r.tally is not None and r.tally.failed == 0 for r in rows)
    return 0 if ok else 1


def main(kit: Kit, pin: Pin, opts: Options) -> int:
    """`make matrix VERSIONS="..."` (default: the pin and the newest release)."""
    versions = list(opts.versions) or default_versions(kit, pin)
    info(f"matrix over FlowJAX {', '.join(versions)}")
    return matrix(kit, pin, versions, ensure_env(kit))
