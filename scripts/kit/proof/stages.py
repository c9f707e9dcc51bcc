"""Stages of `make test`: run them side by side, time them, print the table and the summary line."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from kit.log import KitError, info
from kit.proof.tally import Tally

# `make test`'s total, as a multiple of its stack stage, stays at most this (printed, not enforced).
TOTAL_OVER_STACK = 1.5


@dataclass
class Stage:
    """A named step of `make test`."""

    name: str
    run: Callable[[], Tally | list[str] | str]


def _run_one(stage: Stage) -> tuple[Tally | list[str] | str, float]:
    """Run one stage; any failure of its own (an expected one, or e.g. a missing tool) is its problem."""
    info(f"stage {stage.name} ...")
    t0 = time.perf_counter()
    try:
        outcome = stage.run()
    except KitError as e:
        outcome = [str(e)]
    except Exception as e:  # noqa: BLE001 (one stage's fault must not end the others, the table or the summary)
        outcome = [f"{type(e).__name__}: {e}"]
    seconds = time.perf_counter() - t0
    info(f"stage {stage.name}: done in {seconds:.1f}s")
    return outcome, seconds


def run_stages(
    stages: list[Stage],
    results: Path,
    notes: list[str] = (),
    reference: str | None = None,
    workers: int = 1,
) -> int:
    """Run every stage, print a timing table and the closing summary line; return an exit code.

    With ``reference`` (a stage's name), the total is also printed as a multiple of that stage.
    With ``workers`` > 1 the stages run side by side, the reference stage (the longest) first,
    the others in their order on the remaining workers; the table keeps their order.

    A stage returns a Tally (tests), a list of problems (a check), or a string: a note that
    it was skipped, and why.
    """
    total, rows, failed_stages = Tally(), [], []
    check_failures = 0  # failing stages that are not test runs (drift, ruff, ...)
    start = time.perf_counter()
    first = sorted(stages, key=lambda st: st.name != reference)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {id(stage): pool.submit(_run_one, stage) for stage in first}
        done = [(stage, futures[id(stage)].result()) for stage in stages]
    for stage, (outcome, seconds) in done:
        ok = True
        if isinstance(outcome, Tally):
            total += outcome
            ok = outcome.failed == 0
            detail = f"{outcome.passed} passed, {outcome.failed} failed"
        elif isinstance(outcome, str):
            detail = f"skipped ({outcome})"
        else:
            ok = not outcome
            for problem in outcome:
                info(f"  {stage.name}: {problem}")
            detail = "ok" if ok else f"{len(outcome)} problem(s)"
            check_failures += not ok
        rows.append((stage.name, detail, seconds))
        if not ok:
            failed_stages.append(stage.name)
    info("stage timings:")
    for name, detail, seconds in rows:
        info(f"  {name:<40} {seconds:7.1f}s  {detail}")
    elapsed = time.perf_counter() - start
    info(f"total {elapsed:.1f}s; results in {results}")
    ref_seconds = next((sec for name, _, sec in rows if name == reference), 0.0)
    if ref_seconds:
        info(
            f"total / stack stage: {elapsed:.0f}s / {ref_seconds:.0f}s = {elapsed / ref_seconds:.2f}x "
            f"(target <= {TOTAL_OVER_STACK}x)"
        )
    if failed_stages:
        info(f"failed stages: {', '.join(failed_stages)}")
    for note in notes:
        info(note)
    failed = total.failed + check_failures
    print(f"summary: {total.passed} passed, {failed} failed, {total.skipped} skipped", flush=True)
    return 1 if failed_stages else 0
